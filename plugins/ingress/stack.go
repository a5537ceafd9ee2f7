package main

import (
	"context"

	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
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

// New returns the ingress stack.
func New() *helmstack.Stack[Config] {
	_, perNode := kube.FootprintOf([]kube.Container{controllerPod})
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{
			Name:             "ingress",
			Version:          Version,
			Description:      "NGINX (or Traefik) ingress controller on host ports 80/443, host-based routing under the lab domain",
			Namespaces:       []string{"ingress"},
			FootprintPerNode: perNode,
		},
		Defaults: func() *Config { return &Config{Controller: "nginx", Namespace: "ingress", DefaultClass: true} },
		Namespaces: func(cfg *Config) []helmstack.Namespace {
			return []helmstack.Namespace{{Name: cfg.Namespace, Quota: &quota}}
		},
		Validate: func(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) { validateTLS(cfg, d) },
		Prepare:  prepare,
		Releases: func(s *session) ([]kube.Release, error) { return []kube.Release{release(s)}, nil },
		Rollouts: []helmstack.Rollout{{Check: "controller rollout"}},
		Checks:   checks,
		Endpoints: func(s *session) []sdk.Endpoint {
			eps := []sdk.Endpoint{{Name: "ingress", URL: "https://*." + s.Req.Lab.Domain}}
			if s.Config.Controller == "traefik" {
				eps = append(eps, sdk.Endpoint{Name: "traefik", URL: "https://" + dashboardHost(s.Req.Lab.Domain) + "/dashboard/"})
			}
			return eps
		},
	})
}

func prepare(ctx context.Context, s *session) error {
	if err := removeOtherController(ctx, s); err != nil {
		return err
	}
	return ensureCertificate(ctx, s)
}

// removeOtherController uninstalls the controller the config does not ask for, before the
// new one takes the host ports.
func removeOtherController(ctx context.Context, s *session) error {
	if s.DryRun {
		return nil
	}
	for _, other := range controllers {
		if other.name == s.Config.Controller {
			continue
		}
		removed, err := s.Kube.Uninstall(ctx, other.release, s.Config.Namespace)
		if err != nil {
			return err
		}
		if removed {
			s.Req.Emit("switch", "removed the %s controller", other.name)
		}
	}
	return nil
}
