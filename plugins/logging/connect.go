package logging

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube/podexec"
)

// What ECK makes for the Elasticsearch cluster and Kibana of the stack.
const (
	elasticUserSecret = esName + "-es-elastic-user" // key "elastic": ECK's generated password
	esCASecret        = esName + "-es-http-certs-public"
	esPodSelector     = "elasticsearch.k8s.elastic.co/cluster-name=" + esName
	kibanaPodSelector = "kibana.k8s.elastic.co/name=" + kibanaName
	elasticUser       = "elastic"
)

// The APIs are reached through the API server by port-forward to a ready pod: its service
// proxy would consume the Authorization header the elastic user's password travels in.

// openElastic connects to Elasticsearch as the elastic user, checking its certificate
// against the CA ECK made.
func openElastic(ctx context.Context, s *session) (*elastic, error) {
	ns := s.Config.Namespace
	pw, err := secretKey(ctx, s, elasticUserSecret, elasticUser)
	if err != nil {
		return nil, err
	}
	ca, err := secretKey(ctx, s, esCASecret, "ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("secret %s/%s: ca.crt holds no certificate", ns, esCASecret)
	}
	pod, err := readyPod(ctx, s, esPodSelector)
	if err != nil {
		return nil, err
	}
	host := esName + "-es-http." + ns + ".svc"
	client := pod.HTTPClient(9200, &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12})
	return &elastic{api{base: "https://" + host + ":9200", http: client, user: elasticUser, password: string(pw)}}, nil
}

// openKibana connects to Kibana (plain HTTP inside the cluster) as the elastic user.
func openKibana(ctx context.Context, s *session) (*kibanaAPI, error) {
	pw, err := secretKey(ctx, s, elasticUserSecret, elasticUser)
	if err != nil {
		return nil, err
	}
	pod, err := readyPod(ctx, s, kibanaPodSelector)
	if err != nil {
		return nil, err
	}
	client := pod.HTTPClient(5601, nil)
	base := "http://" + kibanaName + "-kb-http." + s.Config.Namespace + ".svc:5601"
	return &kibanaAPI{api{base: base, http: client, user: elasticUser, password: string(pw), kibana: true}}, nil
}

func secretKey(ctx context.Context, s *session, name, key string) ([]byte, error) {
	ns := s.Config.Namespace
	sec, err := s.Kube.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s (made by the operator): %w", ns, name, err)
	}
	v, ok := sec.Data[key]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s has no %s", ns, name, key)
	}
	return v, nil
}

var errNoReadyPod = errors.New("no ready pod")

// readyPod is the first ready pod of a selector, as a port-forward target.
func readyPod(ctx context.Context, s *session, selector string) (podexec.Pod, error) {
	ns := s.Config.Namespace
	pods, err := s.Kube.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return podexec.Pod{}, err
	}
	for _, p := range pods.Items {
		if ready(p) {
			return podexec.Pod{Config: s.Kube.Config, Kube: s.Kube.Kube, Namespace: ns, Name: p.Name}, nil
		}
	}
	return podexec.Pod{}, fmt.Errorf("%w labelled %s in %s", errNoReadyPod, selector, ns)
}

func ready(p corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
