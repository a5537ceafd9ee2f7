package main

import (
	"context"
	"fmt"

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
}

// Stack installs the ingress controller.
type Stack struct{ sdk.Unimplemented }

// New returns the ingress stack.
func New() *Stack { return &Stack{} }

func (*Stack) Info() sdk.Info {
	return sdk.Info{
		Name:        "ingress",
		Version:     Version,
		Description: "NGINX (or Traefik) ingress controller on host ports 80/443, host-based routing under the lab domain",
		Namespaces:  []string{"ingress"},
		Footprint: sdk.Footprint{ // one controller on each of the 3 nodes of the default lab
			CPURequestMillis: 300, MemoryRequestBytes: 3 * 96 << 20,
			CPULimitMillis: 1500, MemoryLimitBytes: 3 * 256 << 20,
		},
	}
}

func (*Stack) Config() any {
	return &Config{Controller: "nginx", Namespace: "ingress", DefaultClass: true}
}

var quota = kube.Quota{RequestsCPU: "1", RequestsMemory: "1Gi", LimitsCPU: "3", LimitsMemory: "3Gi"}

func (s *Stack) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	req.Emit("namespace", "namespace %s with its quota", cfg.Namespace)
	if err := c.EnsureNamespace(ctx, cfg.Namespace, &quota); err != nil {
		return nil, err
	}
	want := release(cfg, req)
	for _, other := range controllers {
		if other.name != cfg.Controller {
			if removed, err := c.Uninstall(ctx, other.release, cfg.Namespace); err != nil {
				return nil, err
			} else if removed {
				req.Emit("switch", "removed the %s controller", other.name)
			}
		}
	}
	rel, err := c.Apply(ctx, req, want)
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Changed: rel.Changed, Releases: []sdk.Release{rel},
		Summary: fmt.Sprintf("%s controller ready (release %s revision %d)", cfg.Controller, rel.Name, rel.Revision)}, nil
}

func (s *Stack) Render(_ context.Context, req *sdk.Request) ([]sdk.RenderedChart, error) {
	r := release(req.Config.(*Config), req)
	return []sdk.RenderedChart{r.Rendered()}, nil
}

func (s *Stack) Uninstall(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	removed := false
	for _, ctl := range controllers {
		ok, err := c.Uninstall(ctx, ctl.release, cfg.Namespace)
		if err != nil {
			return nil, err
		}
		removed = removed || ok
	}
	req.Emit("namespace", "deleting namespace %s", cfg.Namespace)
	if err := c.DeleteNamespace(ctx, cfg.Namespace); err != nil {
		return nil, err
	}
	return &sdk.Result{Changed: removed, Summary: "ingress controller removed"}, nil
}
