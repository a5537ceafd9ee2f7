// Command lab-plugin-motd is the example stack of docs/writing-a-plugin.md: a web page
// that says the lab's message of the day, at motd.<domain>, from a chart embedded in the
// plugin.
package main

import (
	"context"
	"embed"
	"io/fs"
	"strings"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

func main() { sdk.Serve(New) }

// Config is the stack "motd" block of lab.hcl: its fields are the block's schema.
type Config struct {
	Message  string `hcl:"message" doc:"what the page says"`
	Replicas int    `hcl:"replicas" min:"1" max:"3" doc:"how many pods serve it"`
}

//go:embed all:chart
var files embed.FS

// chart is the embedded chart; a `chart "motd" {}` block in lab.hcl can replace it.
var chart = helm.Chart{Name: "motd", Version: "0.1.0", Embedded: must(fs.Sub(files, "chart"))}

var page = kube.Container{Name: "echo", Replicas: 1, CPU: "10m", Memory: "16Mi", CPULimit: "100m", MemoryLimit: "32Mi"}

// New returns the motd stack: a config, a namespace, one chart and its values, one check.
func New() *helmstack.Stack[Config] {
	fixed, _ := kube.FootprintOf([]kube.Container{page})
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{Name: "motd", Version: "0.1.0", Description: "message of the day",
			DependsOn: []string{"ingress"}, Footprint: fixed, Dashboards: map[string]string{"motd": "motd"}},
		Defaults: func() *Config { return &Config{Message: "Welcome to the lab", Replicas: 1} },
		Validate: func(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
			if strings.TrimSpace(cfg.Message) == "" {
				d.Errorf("message", "the message of the day is empty.")
			}
		},
		Namespaces: func(*Config) []helmstack.Namespace { return []helmstack.Namespace{{Name: "motd"}} },
		Releases: func(s *helmstack.Session[Config]) ([]helm.Release, error) {
			return []helm.Release{{Name: "motd", Namespace: "motd", Chart: chart, Values: map[string]any{
				"message": s.Config.Message, "replicas": s.Config.Replicas, "host": s.Host("motd"),
				"resources": page.Resources(),
			}}}, nil
		},
		Rollouts: []helmstack.Rollout{{Check: "deployment", Name: "motd"}},
		Checks:   probe,
		Endpoints: func(s *helmstack.Session[Config]) []sdk.Endpoint {
			return []sdk.Endpoint{{Name: "motd", URL: "http://" + s.Host("motd")}}
		},
	})
}

// probe asks the page for itself through the API server; on kwok no container runs.
func probe(ctx context.Context, s *helmstack.Session[Config], h *sdk.Health) {
	if s.Simulated() {
		h.SkipSimulated("page", "")
		return
	}
	body, err := s.Kube.ProbeService(ctx, "motd", "motd", "http", "/")
	switch {
	case err != nil:
		h.Add("page", sdk.Unhealthy, "%v", err)
	case !strings.Contains(string(body), s.Config.Message):
		h.Add("page", sdk.Degraded, "the page does not say %q", s.Config.Message)
	default:
		h.Add("page", sdk.Healthy, "the page says %q", s.Config.Message)
	}
}

func must(f fs.FS, err error) fs.FS {
	if err != nil {
		panic(err)
	}
	return f
}
