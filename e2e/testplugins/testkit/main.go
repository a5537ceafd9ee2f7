// Command testkit is a stack plugin for lab's own tests: its config tells it to succeed,
// fail, hang or crash, so the host's handling of each is tested with a real process.
// Copy it as lab-plugin-<name> to get a stack of that name.
package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

func main() { sdk.Serve(New) }

// Config of a testkit stack.
type Config struct {
	Behaviour string   `hcl:"behaviour" enum:"ok,fail,hang,crash" doc:"what Install does"`
	Delay     string   `hcl:"delay" pattern:"^[0-9]+(ms|s|m)$" doc:"how long Install works before it finishes"`
	Message   string   `hcl:"message" doc:"kept in the stack's ConfigMap"`
	Replicas  int      `hcl:"replicas" min:"1" max:"5"`
	Tags      []string `hcl:"tags"`
	Files     string   `hcl:"files" path:"true" doc:"a file or folder whose content the stack depends on"`
	TokenEnv  string   `hcl:"token_env" env:"true" doc:"name of an environment variable the stack reads"`
}

// Stack is a testkit stack; it keeps its state in ConfigMap testkit/<name>.
type Stack struct{ name string }

func New() *Stack {
	return &Stack{name: strings.TrimPrefix(filepath.Base(os.Args[0]), "lab-plugin-")}
}

const namespace = "testkit"

func (s *Stack) Info() sdk.Info {
	return sdk.Info{Name: s.name, Version: "1.0.0", Description: "test stack"}
}

func (s *Stack) Config() any { return &Config{Behaviour: "ok", Delay: "0s", Replicas: 1} }

// Validate has a rule the schema cannot say: a tag may be given once.
func (s *Stack) Validate(_ context.Context, req *sdk.Request) sdk.Diagnostics {
	var d sdk.Diagnostics
	seen := map[string]bool{}
	for i, tag := range req.Config.(*Config).Tags {
		if seen[tag] {
			d.Errorf(sdk.Index("tags", i), "tag %q is given twice.", tag)
		}
		seen[tag] = true
	}
	return d
}

func (s *Stack) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	req.Emit("work", "working for %s", cfg.Delay)
	d, _ := time.ParseDuration(cfg.Delay)
	switch cfg.Behaviour {
	case "hang":
		select {} // a plugin stuck for good: it ignores its deadline
	case "crash":
		time.Sleep(d)
		os.Exit(3)
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if cfg.Behaviour == "fail" {
		return nil, errors.New("told to fail")
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	if err := c.EnsureNamespace(ctx, namespace, nil); err != nil {
		return nil, err
	}
	req.Emit("configmap", "writing %s/%s", namespace, s.name)
	changed, err := s.write(ctx, c, map[string]string{"message": cfg.Message, "config": string(req.ConfigJSON)})
	return &sdk.Result{Changed: changed, Summary: "stored " + cfg.Message}, err
}

func (s *Stack) write(ctx context.Context, c *kube.Client, data map[string]string) (bool, error) {
	cms := c.Kube.CoreV1().ConfigMaps(namespace)
	cm, err := cms.Get(ctx, s.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: s.name}, Data: data}, metav1.CreateOptions{})
		return true, err
	}
	if err != nil || (cm.Data["message"] == data["message"] && cm.Data["config"] == data["config"]) {
		return false, err
	}
	cm.Data = data
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	return true, err
}

func (s *Stack) Health(ctx context.Context, req *sdk.Request) (*sdk.Health, error) {
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	h := &sdk.Health{}
	if cm, err := c.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, s.name, metav1.GetOptions{}); err != nil {
		h.Add("configmap", sdk.Unhealthy, "%v", err)
	} else {
		h.Add("configmap", sdk.Healthy, "message %q", cm.Data["message"])
	}
	h.Add("probe", sdk.Skipped, "nothing to probe")
	return h, nil
}

func (s *Stack) Render(context.Context, *sdk.Request) ([]sdk.RenderedChart, error) { return nil, nil }

func (s *Stack) Backup(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	cm, err := c.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, s.name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(cm.Data)
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Files: []string{"data.yaml"}}, os.WriteFile(filepath.Join(req.Dir, "data.yaml"), b, 0o600)
}

func (s *Stack) Restore(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	b, err := os.ReadFile(filepath.Join(req.Dir, "data.yaml"))
	if err != nil {
		return nil, err
	}
	var data map[string]string
	if err := yaml.Unmarshal(b, &data); err != nil {
		return nil, err
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	changed, err := s.write(ctx, c, data)
	return &sdk.Result{Changed: changed}, err
}

func (s *Stack) Uninstall(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	err = c.Kube.CoreV1().ConfigMaps(namespace).Delete(ctx, s.name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		err = nil
	}
	return &sdk.Result{Changed: true}, err
}
