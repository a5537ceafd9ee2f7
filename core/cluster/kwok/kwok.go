// Package kwok is the provider of a simulated cluster: a real API server, controller
// manager, scheduler and etcd, with nodes and pods simulated by kwok, run by kwokctl.
package kwok

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/sdk"
)

// Config is the `cluster "kwok"` block.
type Config struct {
	Name  string `hcl:"name,optional"`
	Nodes int    `hcl:"nodes,optional"`
	// BinDir holds kwokctl, kwok, kube-apiserver, kube-controller-manager, kube-scheduler, etcd.
	BinDir string `hcl:"bin_dir,optional"`
	// Workdir is kwokctl's folder of clusters (KWOK_WORKDIR); ~/.kwok by default.
	Workdir string `hcl:"workdir,optional"`
}

// DefaultBinDir is where tools/testcluster/build.sh puts the binaries, or $LAB_TESTBIN.
func DefaultBinDir() string {
	if d := os.Getenv("LAB_TESTBIN"); d != "" {
		return d
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "lab", "testbin", "k8s-v1.37.2-kwok-v0.8.0")
}

// Provider runs a kwok cluster through kwokctl.
type Provider struct {
	cfg Config
}

// New returns the provider with defaults filled in.
func New(cfg Config, labName string) *Provider {
	if cfg.Name == "" {
		cfg.Name = labName
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.BinDir == "" {
		cfg.BinDir = DefaultBinDir()
	}
	if cfg.Workdir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg.Workdir = filepath.Join(home, ".kwok")
		}
	}
	return &Provider{cfg: cfg}
}

func (p *Provider) Kind() string { return "kwok" }
func (p *Provider) Name() string { return p.cfg.Name }
func (p *Provider) Owned() bool  { return true }

func (p *Provider) dir() string { return filepath.Join(p.cfg.Workdir, "clusters", p.cfg.Name) }

func (p *Provider) kubeconfigPath() string { return filepath.Join(p.dir(), "kubeconfig.yaml") }

// Status: the cluster exists when kwokctl's folder has its kubeconfig, runs when the API answers.
func (p *Provider) Status(ctx context.Context) (cluster.Status, error) {
	if _, err := os.Stat(p.kubeconfigPath()); err != nil {
		return cluster.Status{}, nil
	}
	c, err := p.Connect(ctx)
	if err != nil {
		return cluster.Status{Exists: true, Detail: err.Error()}, nil
	}
	v, err := cluster.ServerVersion(c, 3*time.Second)
	if err != nil {
		return cluster.Status{Exists: true, Detail: "stopped"}, nil
	}
	return cluster.Status{Exists: true, Running: true, Detail: fmt.Sprintf("kwok, Kubernetes %s", v)}, nil
}

// Create starts a new cluster with the configured number of simulated nodes, one creation
// at a time on the machine, and checks that it is whole (Whole).
func (p *Provider) Create(ctx context.Context, opts cluster.CreateOptions) error {
	b := p.cfg.BinDir
	for _, name := range []string{"kwokctl", "kwok", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"} {
		if _, err := os.Stat(filepath.Join(b, name)); err != nil {
			return fmt.Errorf("kwok cluster: %s is missing from %s (build them with tools/testcluster/build.sh)", name, b)
		}
	}
	unlock, err := lockFile(ctx, createLock())
	if err != nil {
		return err
	}
	defer unlock()
	if err := p.kwokctl(ctx, "create", "cluster", "--runtime", "binary",
		"--kube-apiserver-binary", filepath.Join(b, "kube-apiserver"),
		"--kube-controller-manager-binary", filepath.Join(b, "kube-controller-manager"),
		"--kube-scheduler-binary", filepath.Join(b, "kube-scheduler"),
		"--etcd-binary", filepath.Join(b, "etcd"),
		"--kwok-controller-binary", filepath.Join(b, "kwok"),
		"--kubeconfig", filepath.Join(p.cfg.Workdir, "kubeconfig.yaml"),
		"--wait", "60s"); err != nil {
		return err
	}
	err = p.kwokctl(ctx, "scale", "node", "--replicas", strconv.Itoa(p.cfg.Nodes))
	if err == nil {
		err = p.Whole(ctx)
	}
	if err != nil && !opts.Retain { // a broken cluster is no use, and it holds ports
		_ = p.Delete(context.WithoutCancel(ctx), cluster.DeleteOptions{})
	}
	return err
}

// Start starts a stopped cluster and checks that it is whole; it takes the creation lock
// because it binds the ports chosen when the cluster was made.
func (p *Provider) Start(ctx context.Context) error {
	unlock, err := lockFile(ctx, createLock())
	if err != nil {
		return err
	}
	defer unlock()
	return p.start(ctx)
}

// start is Start for a caller holding the creation lock.
func (p *Provider) start(ctx context.Context) error {
	p.forgetExited()
	if err := p.kwokctl(ctx, "start", "cluster"); err != nil {
		return err
	}
	return p.Whole(ctx)
}

// Stop stops the cluster and waits until its components have exited: kwokctl stop only
// signals them (they take about 1.5 s), and a start meanwhile could not bind their ports.
func (p *Provider) Stop(ctx context.Context) error {
	pids := map[string]int{}
	for _, c := range Components {
		if pid := p.componentPid(c); pid > 0 {
			pids[c] = pid
		}
	}
	if err := p.kwokctl(ctx, "stop", "cluster"); err != nil {
		return err
	}
	return p.waitExited(ctx, pids)
}

// Delete removes the cluster and its folder.
func (p *Provider) Delete(ctx context.Context, _ cluster.DeleteOptions) error {
	if _, err := os.Stat(p.dir()); err != nil {
		return nil
	}
	return p.kwokctl(ctx, "delete", "cluster", "--kubeconfig", filepath.Join(p.cfg.Workdir, "kubeconfig.yaml"))
}

func (p *Provider) Connect(context.Context) (sdk.Cluster, error) {
	b, ctxName, err := cluster.FlattenFile(p.kubeconfigPath(), "")
	if err != nil {
		return sdk.Cluster{}, err
	}
	return sdk.Cluster{Kubeconfig: b, Context: ctxName, Provider: p.Kind(), Simulated: true}, nil
}

func (p *Provider) kwokctl(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	args = append(args, "--name", p.cfg.Name)
	cmd := exec.CommandContext(ctx, filepath.Join(p.cfg.BinDir, "kwokctl"), args...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+p.cfg.Workdir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kwokctl %s %s: %w\n%s", args[0], args[1], err, lastLines(out.String(), 10))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// NodeCount is the number of simulated nodes.
func (p *Provider) NodeCount() int { return p.cfg.Nodes }
