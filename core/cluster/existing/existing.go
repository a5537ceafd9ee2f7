// Package existing is the provider of a cluster lab does not own: any kubeconfig and
// context. Lab never creates, stops or deletes it.
package existing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/sdk"
)

// Config is the `cluster "existing"` block.
type Config struct {
	Kubeconfig string `hcl:"kubeconfig,optional"`
	Context    string `hcl:"context,optional"`
}

// Provider reaches a cluster through a kubeconfig.
type Provider struct {
	cfg Config
}

// ErrNotOwned is returned by what lab may not do to a cluster it does not own.
var ErrNotOwned = errors.New("lab does not create, stop or delete an existing cluster")

// New returns the provider; an empty kubeconfig means $KUBECONFIG or ~/.kube/config.
func New(cfg Config) *Provider {
	if cfg.Kubeconfig == "" {
		cfg.Kubeconfig = os.Getenv("KUBECONFIG")
		if i := strings.IndexByte(cfg.Kubeconfig, os.PathListSeparator); i >= 0 {
			cfg.Kubeconfig = cfg.Kubeconfig[:i]
		}
	}
	if cfg.Kubeconfig == "" {
		cfg.Kubeconfig = clientcmd.RecommendedHomeFile
	}
	if strings.HasPrefix(cfg.Kubeconfig, "~/") {
		home, _ := os.UserHomeDir()
		cfg.Kubeconfig = filepath.Join(home, cfg.Kubeconfig[2:])
	}
	return &Provider{cfg: cfg}
}

func (p *Provider) Kind() string { return "existing" }

// Name is the kubeconfig context, or "current-context" when lab.hcl names none.
func (p *Provider) Name() string {
	if p.cfg.Context == "" {
		return "current-context"
	}
	return p.cfg.Context
}
func (p *Provider) Owned() bool { return false }

// Connect reads the kubeconfig and finds out whether the cluster is simulated (kwok).
func (p *Provider) Connect(ctx context.Context) (sdk.Cluster, error) {
	b, ctxName, err := cluster.FlattenFile(p.cfg.Kubeconfig, p.cfg.Context)
	if err != nil {
		return sdk.Cluster{}, err
	}
	c := sdk.Cluster{Kubeconfig: b, Context: ctxName, Provider: p.Kind()}
	c.Simulated, err = cluster.Simulated(ctx, c)
	return c, err
}

// Status reports the cluster running when its API server answers.
func (p *Provider) Status(ctx context.Context) (cluster.Status, error) {
	b, ctxName, err := cluster.FlattenFile(p.cfg.Kubeconfig, p.cfg.Context)
	if err != nil {
		return cluster.Status{}, err
	}
	c := sdk.Cluster{Kubeconfig: b, Context: ctxName}
	v, err := cluster.ServerVersion(c, 5*time.Second)
	if err != nil {
		return cluster.Status{Exists: true, Detail: err.Error()}, nil
	}
	return cluster.Status{Exists: true, Running: true, Detail: "Kubernetes " + v}, nil
}

func (p *Provider) Create(context.Context, cluster.CreateOptions) error {
	return fmt.Errorf("%w: the cluster of context %q is not reachable through %s", ErrNotOwned, p.cfg.Context, p.cfg.Kubeconfig)
}
func (p *Provider) Start(context.Context) error                         { return ErrNotOwned }
func (p *Provider) Stop(context.Context) error                          { return ErrNotOwned }
func (p *Provider) Delete(context.Context, cluster.DeleteOptions) error { return nil }
