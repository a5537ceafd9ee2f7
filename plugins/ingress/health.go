package main

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/sdk"
)

func checks(ctx context.Context, s *session, h *sdk.Health) {
	ctl := controllerOf(s.Config)
	checkClass(ctx, s, h, ctl)
	checkCertificate(ctx, s, h)
	if s.Simulated() {
		h.SkipSimulated("controller probe", "")
		return
	}
	port, path := "10254", "/healthz"
	if ctl.name == "traefik" {
		port, path = "8080", "/ping"
	}
	pod, _, err := s.Kube.ProbePod(ctx, s.Config.Namespace, "app.kubernetes.io/name="+ctl.chart.Name, port, path)
	if err != nil {
		h.Add("controller probe", sdk.Unhealthy, "%v", err)
		return
	}
	h.Add("controller probe", sdk.Healthy, "%s answered on :%s%s", pod, port, path)
}

func checkClass(ctx context.Context, s *session, h *sdk.Health, ctl controller) {
	ic, err := s.Kube.Kube.NetworkingV1().IngressClasses().Get(ctx, ctl.class, metav1.GetOptions{})
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
	case s.Config.DefaultClass && !isDefault:
		h.Add("ingress class", sdk.Degraded, "IngressClass %s exists but is not the default", ctl.class)
	case isDefault:
		h.Add("ingress class", sdk.Healthy, "IngressClass %s is the cluster default", ctl.class)
	default:
		h.Add("ingress class", sdk.Healthy, "IngressClass %s exists", ctl.class)
	}
}
