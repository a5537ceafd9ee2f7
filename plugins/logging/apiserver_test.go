package logging

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// The whole path of a real cluster, with the test double in place of Elasticsearch and
// Kibana: the real plugin process applies the real charts, waits for the operator (played
// by the test), finds the pods ECK would make, reads ECK's password and CA, and talks to
// the APIs by port-forward through the real API server, which kwok connects to the
// double (its ClusterPortForward); the TLS of Elasticsearch is checked against the CA of
// ECK's Secret. The cluster is told it is not simulated, so nothing is skipped.
func TestThroughTheAPIServer(t *testing.T) {
	d := newDouble()
	ns := "logging"
	ca, caPEM := testCA(t)
	esSrv := httptest.NewUnstartedServer(d.auth(false, d.elasticsearch))
	esSrv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(t, ca, esName+"-es-http."+ns+".svc")}}
	esSrv.StartTLS()
	t.Cleanup(esSrv.Close)
	kbSrv := httptest.NewServer(d.auth(true, d.kibana))
	t.Cleanup(kbSrv.Close)

	c, err := testenv.StartKwokWith(1, forwardRules(port(t, esSrv.Listener), port(t, kbSrv.Listener)))
	require.NoError(t, err)
	t.Cleanup(c.Stop)
	conn := c.Conn
	conn.Simulated = false
	st := launchOn(t, conn, ns)
	ctx := context.Background()
	// No container answers the operator's webhook here; it would only delay each request.
	op := st.req.Charts["eck-operator"]
	op.Values = map[string]any{"webhook": map[string]any{"enabled": false}}
	st.req.Charts["eck-operator"] = op

	// What ECK makes: the namespace's pods of Elasticsearch and Kibana, the elastic
	// user's password, the public CA of the HTTP layer.
	_, err = st.kube.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	for name, data := range map[string]map[string][]byte{
		elasticUserSecret: {elasticUser: []byte(d.password)},
		esCASecret:        {"ca.crt": caPEM},
	} {
		_, err := st.kube.Kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	runningPod(t, st, "elasticsearch-es-default-0", map[string]string{"elasticsearch.k8s.elastic.co/cluster-name": esName})
	runningPod(t, st, "kibana-kb-6d9c7f-x2x4z", map[string]string{"kibana.k8s.elastic.co/name": kibanaName})
	d.add("app-2026.12.01", doc{"@timestamp": ago(time.Minute), "message": "order paid"})
	d.add("k8s-2026.12.01", doc{"@timestamp": ago(time.Minute), "message": "pulled image"})

	// The operator reports green once the resources exist.
	stop := make(chan struct{})
	defer close(stop)
	go reportGreen(st, stop)

	first := st.install()
	assert.True(t, first.Changed)
	got, _ := d.policies[policyName].(map[string]any)
	assert.Equal(t, "7d", dig(got, "phases", "delete", "min_age"), "the lifecycle policy, through the API server")
	assert.Contains(t, d.templates, "lab-app")
	assert.Equal(t, snapshotMount, d.repos[repositoryName])
	assert.Contains(t, d.objects, "index-pattern/lab-app")
	assert.Contains(t, d.objects, "index-pattern/lab-k8s")

	h := st.health()
	assert.Equal(t, map[string]sdk.Status{"operator rollout": sdk.Healthy, "elasticsearch": sdk.Healthy, "kibana": sdk.Healthy,
		"filebeat": sdk.Healthy, "lifecycle policy": sdk.Healthy, "data views": sdk.Healthy,
		"app-* documents": sdk.Healthy, "k8s-* documents": sdk.Healthy}, statuses(h), "%v", h.Checks)

	again := st.install()
	assert.False(t, again.Changed, "nothing to do: no new revision, policy or data view")
	assert.Len(t, d.objects, 2, "no data view made twice")

	dir := t.TempDir()
	st.req.Dir = dir
	res, err := st.client.Backup(ctx, st.req)
	require.NoError(t, err)
	assert.Equal(t, []string{snapshotFile, savedObjectsFile}, res.Files)
	for _, f := range res.Files {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err)
	}
	d.add("app-2026.12.01", doc{"@timestamp": ago(0), "message": "after the backup"})
	res, err = st.client.Restore(ctx, st.req)
	require.NoError(t, err)
	assert.Contains(t, res.Summary, "2 indices from snapshot lab-")
	assert.Len(t, d.indices["app-2026.12.01"].docs, 1, "as at the backup")

	creds, err := st.kube.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, d.password, find(creds, ns).Password, "the login carries ECK's password")

	// A wrong CA: the client refuses Elasticsearch's certificate.
	_, otherPEM := testCA(t)
	sec, err := st.kube.Kube.CoreV1().Secrets(ns).Get(ctx, esCASecret, metav1.GetOptions{})
	require.NoError(t, err)
	sec.Data["ca.crt"] = otherPEM
	_, err = st.kube.Kube.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	require.NoError(t, err)
	h = st.health()
	assert.Equal(t, sdk.Unhealthy, statuses(h)["lifecycle policy"])
	assert.Contains(t, message(h, "lifecycle policy"), "certificate")
	assert.Equal(t, sdk.Healthy, statuses(h)["data views"], "Kibana is not concerned")
}

func port(t *testing.T, l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }

// forwardRules make kwok connect the pods' ports 9200 and 5601 to the double.
func forwardRules(es, kb int) string {
	return fmt.Sprintf(`kind: ClusterPortForward
apiVersion: kwok.x-k8s.io/v1alpha1
metadata:
  name: elastic-double
spec:
  forwards:
  - ports: [9200]
    target:
      port: %d
      address: 127.0.0.1
  - ports: [5601]
    target:
      port: %d
      address: 127.0.0.1
`, es, kb)
}

// runningPod makes a pod as ECK would, and waits until kwok runs it.
func runningPod(t *testing.T, st *stackUnderTest, name string, labels map[string]string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "docker.elastic.co/stand-in:9.5.0"}}}}
	pods := st.kube.Kube.CoreV1().Pods(st.ns)
	for { // a new namespace gets its default ServiceAccount a moment later
		_, err := pods.Create(ctx, pod, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			break
		}
		require.NoError(t, ctx.Err(), "create pod %s: %v", name, err)
		time.Sleep(100 * time.Millisecond)
	}
	require.Eventually(t, func() bool {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		return err == nil && ready(*p)
	}, time.Minute, 100*time.Millisecond, "pod %s ready", name)
}

// reportGreen plays the operator: it writes each resource's status green once it exists.
func reportGreen(st *stackUnderTest, stop chan struct{}) {
	status := map[string]map[string]any{
		esResource.kind:     {"health": "green", "phase": "Ready", "availableNodes": 3},
		kibanaResource.kind: {"health": "green", "availableNodes": 1, "count": 1},
		beatResource.kind:   {"health": "green", "availableNodes": 1, "expectedNodes": 1},
	}
	done := map[string]bool{}
	for len(done) < len(eckResources) {
		for _, r := range eckResources {
			if done[r.kind] {
				continue
			}
			o, err := st.get(r)
			if err != nil {
				continue
			}
			o.Object["status"] = status[r.kind]
			_, err = st.kube.Dynamic.Resource(r.gvr).Namespace(st.ns).UpdateStatus(context.Background(), o, metav1.UpdateOptions{})
			done[r.kind] = err == nil
		}
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// testCA is a certificate authority as ECK makes one, and its PEM.
func testCA(t *testing.T) (tls.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "elasticsearch-http"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// serverCert is the HTTP certificate ECK gives Elasticsearch: its service's name.
func serverCert(t *testing.T, ca tls.Certificate, host string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.Leaf, &key.PublicKey, ca.PrivateKey)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der, ca.Certificate[0]}, PrivateKey: key}
}
