package ingress

import (
	"context"

	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
)

func checks(ctx context.Context, s *session, h *sdk.Health) {
	ctl := controllers[s.Config.Controller]
	found, isDefault, err := s.Kube.IngressClass(ctx, ctl.class)
	switch {
	case err != nil:
		h.Add("ingress class", sdk.Unhealthy, "%v", err)
	case !found:
		h.Add("ingress class", sdk.Unhealthy, "IngressClass %s is missing", ctl.class)
	case s.Config.DefaultClass && !isDefault:
		h.Add("ingress class", sdk.Degraded, "IngressClass %s exists but is not the default", ctl.class)
	case isDefault:
		h.Add("ingress class", sdk.Healthy, "IngressClass %s is the cluster default", ctl.class)
	default:
		h.Add("ingress class", sdk.Healthy, "IngressClass %s exists", ctl.class)
	}
	status, msg := labca.CheckServed(ctx, s.Kube.Kube, s.Config.Namespace, certSecret, s.Req.Lab.Domain, s.Config.TLSCert)
	h.Add("default certificate", status, "%s", msg)
	if s.Simulated() {
		h.SkipSimulated("controller probe", "")
		return
	}
	pod, _, err := s.Kube.ProbePod(ctx, s.Config.Namespace, "app.kubernetes.io/name="+ctl.chart.Name, ctl.probePort, ctl.probePath)
	if err != nil {
		h.Add("controller probe", sdk.Unhealthy, "%v", err)
		return
	}
	h.Add("controller probe", sdk.Healthy, "%s answered on :%s%s", pod, ctl.probePort, ctl.probePath)
}

func endpoints(s *session) []sdk.Endpoint {
	eps := []sdk.Endpoint{{Name: "ingress", URL: "https://*." + s.Req.Lab.Domain}}
	if s.Config.Controller == "traefik" {
		eps = append(eps, sdk.Endpoint{Name: "traefik", URL: "https://" + s.Host("traefik") + "/dashboard/"})
	}
	return eps
}
