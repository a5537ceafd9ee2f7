// Package k3d is the provider of the lab's default cluster, made through the k3d v5 library
// (never its CLI): k3s servers and agents in Docker, a load balancer publishing ports 80/443
// and the API, the lab's data_dir mounted at /mnt/data on every node.
//
// The `cluster "k3d"` block (every attribute optional):
//
//	name                      = "<lab>-local"   # the k3d cluster; containers are k3d-<name>-*
//	servers                   = 1
//	agents                    = 2
//	image                     = "rancher/k3s:v1.33.9-k3s1"
//	server_memory             = "4g"             # per node; k3s sees it as the node's memory
//	agent_memory              = "4g"
//	http_port                 = 80               # host ports of the load balancer
//	https_port                = 443
//	api_port                  = 6550             # on 127.0.0.1
//	k3s_args                  = ["--kubelet-arg=max-pods=150@agent:*"]  # no filter: servers
//	node_labels               = { "pool" = "general" }  # or ["KEY=VALUE@NODEFILTER"]
//	mirrors                   = { "docker.io" = ["https://mirror.example"] }
//	harbor_insecure           = true             # skip TLS checks towards harbor.<domain>
//	update_default_kubeconfig = false            # also merge into ~/.kube/config
//	switch_context            = false            # and make it the current context
//
// From the rest of lab.hcl: k3s's Traefik is disabled when an ingress stack is enabled,
// and nodes pull from harbor.<domain> (registries.yaml) when a harbor stack is enabled.
package k3d

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	k3dlog "github.com/k3d-io/k3d/v5/pkg/logger"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	"github.com/k3d-io/k3d/v5/version"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/config"
)

// Time limits of the operations that wait. Create includes pulling the k3s image.
const (
	CreateTimeout   = 10 * time.Minute
	StartTimeout    = 5 * time.Minute
	StopTimeout     = 2 * time.Minute
	DeleteTimeout   = 3 * time.Minute
	ConnectTimeout  = 30 * time.Second
	StatusTimeout   = 30 * time.Second
	rollbackTimeout = DeleteTimeout
	// cleanupGrace is how long a timed-out step gets to notice its cancelled context
	// before lab cleans up after it.
	cleanupGrace = 30 * time.Second
)

// k3dModule pins the helper images (load balancer, tools) to the library's release:
// linked as a library k3d does not know its version and would pull them at :latest.
const k3dModule = "github.com/k3d-io/k3d/v5"

func init() {
	if version.HelperVersionOverride == "" {
		version.HelperVersionOverride = libraryVersion()
	}
	// core prints nothing; the CLI routes k3d's progress lines with SetLogOutput.
	k3dlog.Log().SetOutput(io.Discard)
}

func libraryVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == k3dModule && strings.HasPrefix(m.Version, "v") {
				return strings.TrimPrefix(m.Version, "v")
			}
		}
	}
	return "5.8.3"
}

// SetLogOutput sends the k3d library's progress lines ("Creating node ...") to w.
func SetLogOutput(w io.Writer) { k3dlog.Log().SetOutput(w) }

// Provider is the k3d cluster of the lab.
type Provider struct {
	cfg Config
	// minFreeDisk is what the disk check wants free on data_dir's file system.
	minFreeDisk uint64
	// createTimeout replaces CreateTimeout when set (tests).
	createTimeout time.Duration
}

var _ cluster.Provider = (*Provider)(nil)
var _ cluster.Preflighter = (*Provider)(nil)

// New decodes the `cluster "k3d"` block and checks the cluster it describes with k3d's own
// config pipeline, which needs no Docker engine.
func New(c *config.Config) (*Provider, hcl.Diagnostics) {
	cfg, diags := Decode(c)
	p := &Provider{cfg: cfg, minFreeDisk: DefaultMinFreeDisk}
	if diags.HasErrors() {
		return p, diags
	}
	// k3d warns about a data_dir that does not exist yet; Create makes it before k3d looks.
	check := cfg
	if existing, err := nearestExisting(cfg.DataDir); err == nil {
		check.DataDir = existing
	}
	if _, err := check.ClusterConfig(context.Background()); err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid k3d cluster",
			Detail: err.Error() + ".", Subject: blockRange(c).Ptr()})
	}
	return p, diags
}

func (p *Provider) Kind() string { return "k3d" }
func (p *Provider) Name() string { return p.cfg.Name }
func (p *Provider) Owned() bool  { return true }

// Config returns the decoded cluster block.
func (p *Provider) Config() Config { return p.cfg }

// ClusterConfig is the full k3d cluster config Create hands to the library.
func (p *Provider) ClusterConfig(ctx context.Context) (*v1alpha5.ClusterConfig, error) {
	return p.cfg.ClusterConfig(ctx)
}

// KubeconfigPath is the lab's own kubeconfig file (~/.lab/<lab>/kubeconfig), written by
// Create and Connect with mode 0600.
func (p *Provider) KubeconfigPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".lab", p.cfg.LabName, "kubeconfig")
}

// get returns the cluster as k3d sees it, or nil when it does not exist. The caller has
// checked that Docker answers: k3d reports an unreachable engine as "no nodes".
func (p *Provider) get(ctx context.Context) (*k3dtypes.Cluster, error) {
	c, err := k3dclient.ClusterGet(ctx, runtimes.Docker, &k3dtypes.Cluster{Name: p.cfg.Name})
	if errors.Is(err, k3dclient.ClusterGetNoNodesFoundError) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("k3d cluster %q: %w", p.cfg.Name, err)
	}
	return c, nil
}

// lookup checks Docker, then finds the cluster.
func (p *Provider) lookup(ctx context.Context) (*k3dtypes.Cluster, error) {
	cli, err := engine(ctx)
	if err != nil {
		return nil, err
	}
	_ = cli.Close()
	return p.find(ctx)
}

// find is get within a timeout.
func (p *Provider) find(ctx context.Context) (*k3dtypes.Cluster, error) {
	var c *k3dtypes.Cluster
	err := bounded(ctx, StatusTimeout, "looking up the k3d cluster", func(ctx context.Context) error {
		var err error
		c, err = p.get(ctx)
		return err
	})
	return c, err
}

func (p *Provider) missing() error {
	return fmt.Errorf("k3d cluster %q does not exist (lab apply creates it)", p.cfg.Name)
}

// Create makes and starts the cluster, then writes its kubeconfig. Docker, the ports and
// data_dir are checked first, so a machine that cannot run the lab is left untouched.
func (p *Provider) Create(ctx context.Context, opts cluster.CreateOptions) error {
	existing, err := p.lookup(ctx)
	if err != nil {
		return err
	}
	if existing != nil {
		return fmt.Errorf("k3d cluster %q already exists", p.cfg.Name)
	}
	host := p.hostChecks(false)
	p.namePortHolders(ctx, host)
	if err := cluster.PreflightError(host); err != nil {
		return err
	}
	// The folder exists before k3d checks the mount, and goes again if the create fails.
	madeDir, err := ensureDir(p.cfg.DataDir)
	if err != nil {
		return err
	}
	cc, err := p.cfg.ClusterConfig(ctx)
	if err != nil {
		err = fmt.Errorf("checking the config: %w", err)
	} else {
		err = bounded(ctx, p.createLimit(), "creating the k3d cluster", func(ctx context.Context) error {
			if err := k3dclient.ClusterRun(ctx, runtimes.Docker, cc); err != nil {
				return err
			}
			return p.injectHarborHost(ctx, &cc.Cluster)
		})
		if err != nil {
			err = p.explainCreate(err)
		}
	}
	if err == nil {
		if _, err = p.Connect(ctx); err != nil {
			err = fmt.Errorf("reading the kubeconfig: %w", err)
		}
	}
	if err == nil {
		return nil
	}
	err = fmt.Errorf("create k3d cluster %q failed while %w", p.cfg.Name, err)
	if opts.Retain {
		return fmt.Errorf("%w (kept what was made, as asked; lab destroy removes it)", err)
	}
	return p.rollback(err, madeDir)
}

// createLimit is CreateTimeout unless a test shortened it.
func (p *Provider) createLimit() time.Duration {
	if p.createTimeout > 0 {
		return p.createTimeout
	}
	return CreateTimeout
}

// rollback removes what a failed create made (containers, network, volumes, kubeconfig
// entries, the data folder if lab made it), on a fresh context: the create's own may be
// the one that expired.
func (p *Provider) rollback(cause error, madeDir string) error {
	err := bounded(context.Background(), rollbackTimeout, "rolling back", func(ctx context.Context) error {
		return errors.Join(p.removeCluster(ctx), p.forgetKubeconfig(ctx))
	})
	if madeDir != "" {
		err = errors.Join(err, os.RemoveAll(madeDir))
	}
	if err != nil {
		return fmt.Errorf("%w; the rollback failed too: %v (remove what is left with lab destroy, or docker rm -f the containers named k3d-%s-*)", cause, err, p.cfg.Name)
	}
	return fmt.Errorf("%w (rolled back: nothing of the cluster is left)", cause)
}

// Start starts the nodes of a stopped cluster and waits for the servers.
func (p *Provider) Start(ctx context.Context) error {
	c, err := p.lookup(ctx)
	if err != nil {
		return err
	}
	if c == nil {
		return p.missing()
	}
	return bounded(ctx, StartTimeout, "starting the k3d cluster", func(ctx context.Context) error {
		env, err := k3dclient.GatherEnvironmentInfo(ctx, runtimes.Docker, c)
		if err != nil {
			return err
		}
		// Host aliases given at create time live in the nodes' labels.
		opts, err := k3dclient.GetClusterStartOptsFromLabels(c)
		if err != nil {
			return err
		}
		opts.WaitForServer = true
		opts.Timeout = StartTimeout
		opts.EnvironmentInfo = env
		opts.Intent = k3dtypes.IntentClusterStart
		opts.HostAliases = append(opts.HostAliases, p.harborAliases(env)...)
		return k3dclient.ClusterStart(ctx, runtimes.Docker, c, opts)
	})
}

// Stop stops every node; the cluster and its data stay.
func (p *Provider) Stop(ctx context.Context) error {
	c, err := p.lookup(ctx)
	if err != nil {
		return err
	}
	if c == nil {
		return p.missing()
	}
	return bounded(ctx, StopTimeout, "stopping the k3d cluster", func(ctx context.Context) error {
		return k3dclient.ClusterStop(ctx, runtimes.Docker, c)
	})
}

// Delete removes the cluster's containers, network and volumes and the lab's kubeconfig.
// data_dir, which holds the stacks' volumes, goes only with opts.PurgeData.
func (p *Provider) Delete(ctx context.Context, opts cluster.DeleteOptions) error {
	if _, err := p.lookup(ctx); err != nil {
		return err
	}
	err := bounded(ctx, DeleteTimeout, "deleting the k3d cluster", p.removeCluster)
	if err != nil {
		return fmt.Errorf("delete k3d cluster %q: %w", p.cfg.Name, err)
	}
	if err := p.forgetKubeconfig(ctx); err != nil {
		return err
	}
	if opts.PurgeData {
		return purgeData(p.cfg.DataDir)
	}
	return nil
}

// purgeData removes data_dir, refusing paths whose loss would be out of all proportion.
func purgeData(dir string) error {
	dir = filepath.Clean(dir)
	home, _ := os.UserHomeDir()
	if dir == "/" || dir == filepath.Clean(home) || !filepath.IsAbs(dir) {
		return fmt.Errorf("refusing to remove data_dir %q: remove it by hand", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove data_dir: %w (files written by pods may belong to root)", err)
	}
	return nil
}

// bounded runs fn under a deadline and returns by it even if fn does not: some k3d steps
// (log waits, fixed sleeps) watch their context loosely. On timeout fn gets a short grace
// to stop before the caller moves on, so a rollback does not race it.
func bounded(parent context.Context, limit time.Duration, what string, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	cancel()
	select {
	case <-done:
	case <-time.After(cleanupGrace):
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return timeoutError{what, limit}
}

// errTimeout matches the error of an operation that ran out of its time limit.
var errTimeout = errors.New("timed out")

type timeoutError struct {
	what  string
	limit time.Duration
}

func (e timeoutError) Error() string {
	return fmt.Sprintf("%s did not finish within %s", e.what, e.limit)
}
func (e timeoutError) Is(target error) bool { return target == errTimeout }
