package k3d

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/sdk"
)

// Connect fetches the cluster's kubeconfig from a server node, writes it to KubeconfigPath
// (and into the default kubeconfig when update_default_kubeconfig) and returns it.
func (p *Provider) Connect(ctx context.Context) (sdk.Cluster, error) {
	c, err := p.lookup(ctx)
	if err != nil {
		return sdk.Cluster{}, err
	}
	if c == nil {
		return sdk.Cluster{}, p.missing()
	}
	raw, err := p.kubeconfigOf(ctx, c)
	if err != nil {
		return sdk.Cluster{}, err
	}
	return p.saveKubeconfig(ctx, raw)
}

// kubeconfigOf asks k3d for the admin kubeconfig, which points at 127.0.0.1:<api_port>.
func (p *Provider) kubeconfigOf(ctx context.Context, c *k3dtypes.Cluster) (*clientcmdapi.Config, error) {
	var raw *clientcmdapi.Config
	err := bounded(ctx, ConnectTimeout, "reading the kubeconfig", func(ctx context.Context) error {
		var err error
		raw, err = k3dclient.KubeconfigGet(ctx, runtimes.Docker, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("k3d cluster %q: %w", p.cfg.Name, err)
	}
	return raw, nil
}

// serverVersion asks the API server of a kubeconfig its version.
func serverVersion(raw *clientcmdapi.Config, timeout time.Duration) (string, error) {
	b, err := clientcmd.Write(*raw)
	if err != nil {
		return "", err
	}
	return cluster.ServerVersion(sdk.Cluster{Kubeconfig: b, Context: raw.CurrentContext}, timeout)
}

// saveKubeconfig flattens raw, writes the lab's file and, if asked, merges the default one.
func (p *Provider) saveKubeconfig(ctx context.Context, raw *clientcmdapi.Config) (sdk.Cluster, error) {
	b, err := clientcmd.Write(*raw)
	if err != nil {
		return sdk.Cluster{}, err
	}
	flat, ctxName, err := cluster.Flatten(b, "")
	if err != nil {
		return sdk.Cluster{}, err
	}
	if err := atomicfile.Write(p.KubeconfigPath(), flat, 0o600); err != nil {
		return sdk.Cluster{}, fmt.Errorf("write kubeconfig: %w", err)
	}
	if p.cfg.UpdateDefaultKubeconfig {
		if err := mergeDefault(ctx, raw, p.cfg.SwitchContext); err != nil {
			return sdk.Cluster{}, err
		}
	}
	c := sdk.Cluster{Kubeconfig: flat, Context: ctxName, Provider: p.Kind()}
	// Nodes whose pods kwok simulates (the stand-in images of the tests) run no container,
	// so the stacks skip their probes there, as on a kwok cluster.
	if sim, err := cluster.Simulated(ctx, c); err == nil {
		c.Simulated = sim
	}
	return c, nil
}

// mergeDefault adds the cluster's entries to the default kubeconfig ($KUBECONFIG or
// ~/.kube/config), replacing older entries of the same cluster.
func mergeDefault(ctx context.Context, raw *clientcmdapi.Config, switchContext bool) error {
	path, err := k3dclient.KubeconfigGetDefaultPath()
	if err != nil {
		return err
	}
	existing, err := clientcmd.LoadFromFile(path)
	if errors.Is(err, os.ErrNotExist) {
		// k3d's writer resolves symlinks of the target, so the file must exist.
		if err := atomicfile.Write(path, nil, 0o600); err != nil {
			return fmt.Errorf("default kubeconfig: %w", err)
		}
		existing, err = clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		return fmt.Errorf("default kubeconfig: %w", err)
	}
	if err := k3dclient.KubeconfigMerge(ctx, raw, existing, path, true, switchContext); err != nil {
		return fmt.Errorf("default kubeconfig: %w", err)
	}
	return nil
}

// forgetKubeconfig removes the lab's kubeconfig and, if it was merged, the cluster's
// entries of the default one.
func (p *Provider) forgetKubeconfig(ctx context.Context) error {
	if err := os.Remove(p.KubeconfigPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if !p.cfg.UpdateDefaultKubeconfig {
		return nil
	}
	path, err := k3dclient.KubeconfigGetDefaultPath()
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	if err := k3dclient.KubeconfigRemoveClusterFromDefaultConfig(ctx, &k3dtypes.Cluster{Name: p.cfg.Name}); err != nil {
		return fmt.Errorf("default kubeconfig: %w", err)
	}
	return nil
}
