// Command lab-plugin-motd is the example stack of docs/writing-a-plugin.md: a web page
// that says the lab's message of the day, at motd.<domain>.
package main

import (
	"context"
	"fmt"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

func main() { sdk.Serve(New) }

// Config is the stack "motd" block of lab.hcl: its fields are the block's schema.
type Config struct {
	Message  string `hcl:"message" doc:"what the page says"`
	Replicas int    `hcl:"replicas" min:"1" max:"3" doc:"how many pods serve it"`
}

// Stack is the motd stack. Unimplemented gives it Render, Backup and Restore.
type Stack struct{ sdk.Unimplemented }

func New() *Stack { return &Stack{} }

func (*Stack) Info() sdk.Info {
	return sdk.Info{Name: "motd", Version: "0.1.0", Description: "message of the day", DependsOn: []string{"ingress"}}
}

// Config returns the defaults; lab.hcl overrides them.
func (*Stack) Config() any { return &Config{Message: "Welcome to the lab", Replicas: 1} }

const namespace = "motd"

func (*Stack) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	if err := c.EnsureNamespace(ctx, namespace, nil); err != nil {
		return nil, err
	}
	req.Emit("apply", "serving %q at motd.%s", cfg.Message, req.Lab.Domain)
	changed, err := c.ApplyYAML(ctx, namespace, manifest(cfg, req.Lab.Domain))
	if err != nil {
		return nil, err
	}
	// Wait through the API: on a simulated cluster the pods become Ready too.
	err = c.WaitWorkloads(ctx, req, "rollout", []kube.Workload{{Kind: "Deployment", Namespace: namespace, Name: "motd"}})
	return &sdk.Result{Changed: changed, Summary: "motd is served"}, err
}

func (*Stack) Health(ctx context.Context, req *sdk.Request) (*sdk.Health, error) {
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	h := &sdk.Health{Endpoints: []sdk.Endpoint{{Name: "motd", URL: "http://motd." + req.Lab.Domain}}}
	w, err := c.Workload(ctx, "Deployment", namespace, "motd")
	switch {
	case err != nil:
		h.Add("deployment", sdk.Unhealthy, "%v", err)
	case !w.Found:
		h.Add("deployment", sdk.Unhealthy, "deployment motd is missing")
	case !w.Done:
		h.Add("deployment", sdk.Unhealthy, "%s", w)
	default:
		h.Add("deployment", sdk.Healthy, "%s", w)
	}
	return h, nil
}

func (*Stack) Uninstall(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Changed: true}, c.DeleteNamespace(ctx, namespace)
}

func manifest(cfg *Config, domain string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: motd, labels: {app: motd}}
spec:
  replicas: %d
  selector: {matchLabels: {app: motd}}
  template:
    metadata: {labels: {app: motd}}
    spec:
      containers:
        - name: echo
          image: hashicorp/http-echo:1.0
          args: [%q, "-listen=:8080"]
          ports: [{containerPort: 8080}]
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 32Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: motd}
spec:
  selector: {app: motd}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: motd}
spec:
  rules:
    - host: motd.%s
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: motd, port: {number: 80}}}}
`, cfg.Replicas, "-text="+cfg.Message, domain)
}
