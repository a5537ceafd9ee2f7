package ingress

import (
	"context"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
)

// Version of this plugin.
var Version = "0.1.0"

// Config is the ingress block of lab.hcl.
type Config struct {
	Controller   string `hcl:"controller" enum:"nginx,traefik" doc:"ingress controller: nginx or traefik" warn:"nginx=ingress-nginx was retired upstream in March 2026 and gets no more fixes; consider controller = \"traefik\""`
	Namespace    string `hcl:"namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace of the controller"`
	DefaultClass bool   `hcl:"default_class" doc:"make the controller's IngressClass the cluster default"`
	TLSCert      string `hcl:"tls_cert" path:"true" doc:"PEM certificate (with its chain) to serve for every lab host instead of the lab CA's; relative to lab.hcl"`
	TLSKey       string `hcl:"tls_key" path:"true" doc:"PEM private key of tls_cert; relative to lab.hcl"`
}

type session = helmstack.Session[Config]

var quota = kube.Quota{RequestsCPU: "1", RequestsMemory: "1Gi", LimitsCPU: "3", LimitsMemory: "3Gi"}

// controllerPod is the controller on each node; the host multiplies it by the nodes.
var controllerPod = kube.Container{Name: "controller", PerNode: true, CPU: "100m", Memory: "96Mi", CPULimit: "500m", MemoryLimit: "256Mi"}

// certSecret is the controller's default certificate: the lab's, or tls_cert's.
const certSecret = "lab-tls"

// New returns the ingress stack.
func New() *helmstack.Stack[Config] {
	_, perNode := kube.FootprintOf([]kube.Container{controllerPod})
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{Name: "ingress", Version: Version, Namespaces: []string{"ingress"}, FootprintPerNode: perNode,
			Description: "NGINX (or Traefik) ingress controller on host ports 80/443, host-based routing under the lab domain"},
		Defaults: func() *Config { return &Config{Controller: "nginx", Namespace: "ingress", DefaultClass: true} },
		Validate: func(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
			labca.ValidatePair("tls_cert", cfg.TLSCert, "tls_key", cfg.TLSKey, d)
		},
		Namespaces: func(cfg *Config) []helmstack.Namespace {
			return []helmstack.Namespace{{Name: cfg.Namespace, Quota: &quota}}
		},
		Replaced: func(cfg *Config) (out []helm.Release) {
			for _, c := range controllers {
				if c.name != cfg.Controller {
					out = append(out, helm.Release{Name: c.release, Namespace: cfg.Namespace})
				}
			}
			return out
		},
		Prepare: serveCertificate,
		Releases: func(s *session) ([]helm.Release, error) {
			ctl := controllers[s.Config.Controller]
			return []helm.Release{{Name: ctl.release, Namespace: s.Config.Namespace, Chart: ctl.chart,
				Values: ctl.values(s.Config, s.Req.Lab.Domain, s.Simulated())}}, nil
		},
		Rollouts:  []helmstack.Rollout{{Check: "controller rollout"}},
		Checks:    checks,
		Endpoints: endpoints,
	})
}

// serveCertificate writes the controller's default certificate before the chart names it.
func serveCertificate(ctx context.Context, s *session) error {
	if s.DryRun {
		return nil
	}
	what, err := labca.Serve(ctx, s.Kube.Kube, s.Config.Namespace, certSecret, kube.Owned(s.Stack(), nil), s.Config.TLSCert, s.Config.TLSKey)
	if err == nil && what == "" {
		s.Req.Warn("certificate", "no lab certificate published yet (lab apply does it): the controller serves a self-signed one")
	}
	return err
}
