package main

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

func (s *Stack) Health(ctx context.Context, req *sdk.Request) (*sdk.Health, error) {
	cfg := req.Config.(*Config)
	ctl := controllerOf(cfg)
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	h := &sdk.Health{Endpoints: []sdk.Endpoint{{Name: "ingress", URL: "http://*." + req.Lab.Domain}}}
	checkRollout(ctx, c, h, ctl, cfg.Namespace)
	checkClass(ctx, c, h, ctl, cfg.DefaultClass)
	if req.Cluster.Simulated {
		h.Add("controller probe", sdk.Skipped, "no container runs on a simulated (kwok) cluster")
	} else {
		probe(ctx, c, h, ctl, cfg.Namespace)
	}
	return h, nil
}

func checkRollout(ctx context.Context, c *kube.Client, h *sdk.Health, ctl controller, ns string) {
	ws, err := c.ReleaseWorkloads(ctx, ctl.release, ns)
	if err != nil {
		h.Add("controller rollout", sdk.Unhealthy, "%v", err)
		return
	}
	var pending, ready []string
	for _, w := range ws {
		if w.Done {
			ready = append(ready, w.String())
		} else {
			pending = append(pending, w.String())
		}
	}
	switch {
	case len(ws) == 0:
		h.Add("controller rollout", sdk.Unhealthy, "release %s has no workloads", ctl.release)
	case len(pending) > 0:
		h.Add("controller rollout", sdk.Unhealthy, "not ready: %s", strings.Join(pending, ", "))
	default:
		h.Add("controller rollout", sdk.Healthy, "%s", strings.Join(ready, ", "))
	}
}

func checkClass(ctx context.Context, c *kube.Client, h *sdk.Health, ctl controller, wantDefault bool) {
	ic, err := c.Kube.NetworkingV1().IngressClasses().Get(ctx, ctl.class, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		h.Add("ingress class", sdk.Unhealthy, "IngressClass %s is missing", ctl.class)
		return
	}
	if err != nil {
		h.Add("ingress class", sdk.Unhealthy, "%v", err)
		return
	}
	isDefault := ic.Annotations["ingressclass.kubernetes.io/is-default-class"] == "true"
	switch {
	case wantDefault && !isDefault:
		h.Add("ingress class", sdk.Degraded, "IngressClass %s exists but is not the default", ctl.class)
	case isDefault:
		h.Add("ingress class", sdk.Healthy, "IngressClass %s is the cluster default", ctl.class)
	default:
		h.Add("ingress class", sdk.Healthy, "IngressClass %s exists", ctl.class)
	}
}

// probe asks one controller pod for its health endpoint through the API server's proxy.
func probe(ctx context.Context, c *kube.Client, h *sdk.Health, ctl controller, ns string) {
	port, path := "10254", "/healthz"
	if ctl.name == "traefik" {
		port, path = "8080", "/ping"
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + ctl.chart.Name})
	if err != nil {
		h.Add("controller probe", sdk.Unhealthy, "%v", err)
		return
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		_, err := c.Kube.CoreV1().Pods(ns).ProxyGet("http", p.Name, port, path, nil).DoRaw(ctx)
		if err != nil {
			h.Add("controller probe", sdk.Unhealthy, "GET %s:%s%s: %v", p.Name, port, path, err)
			return
		}
		h.Add("controller probe", sdk.Healthy, "%s answered on :%s%s", p.Name, port, path)
		return
	}
	h.Add("controller probe", sdk.Unhealthy, "no running %s pod to probe", ctl.name)
}
