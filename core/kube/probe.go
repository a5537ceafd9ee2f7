package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProbePod GETs path on port of the first running pod that matches selector, through the
// API server's pod proxy, so no port of the cluster needs to be reachable from the host.
// It returns the pod's name and the body.
func (c *Client) ProbePod(ctx context.Context, ns, selector, port, path string) (string, []byte, error) {
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return "", nil, err
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		body, err := c.Kube.CoreV1().Pods(ns).ProxyGet("http", p.Name, port, path, nil).DoRaw(ctx)
		if err != nil {
			return p.Name, nil, fmt.Errorf("GET %s:%s%s: %w", p.Name, port, path, err)
		}
		return p.Name, body, nil
	}
	return "", nil, fmt.Errorf("no running pod labelled %s in %s", selector, ns)
}

// ProbeService GETs path on a Service's port through the API server's service proxy.
func (c *Client) ProbeService(ctx context.Context, ns, service, port, path string) ([]byte, error) {
	body, err := c.Kube.CoreV1().Services(ns).ProxyGet("http", service, port, path, nil).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("GET service %s/%s:%s%s: %w", ns, service, port, path, err)
	}
	return body, nil
}

// IngressClass reports whether an IngressClass exists and is the cluster's default.
func (c *Client) IngressClass(ctx context.Context, name string) (found, isDefault bool, err error) {
	ic, err := c.Kube.NetworkingV1().IngressClasses().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, false, IgnoreNotFound(err)
	}
	return true, ic.Annotations["ingressclass.kubernetes.io/is-default-class"] == "true", nil
}
