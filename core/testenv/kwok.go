// Package testenv gives tests a real Kubernetes API server (a kwok cluster run by
// kwokctl), a local chart repository served over HTTP, and the lab binaries built fresh.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/cluster/kwok"
	"github.com/nexolab/lab/core/sdk"
)

// Cluster is a running kwok cluster.
type Cluster struct {
	Name    string
	Workdir string
	BinDir  string
	// Kubeconfig is a self-contained kubeconfig file of the cluster.
	Kubeconfig string
	Conn       sdk.Cluster
	provider   *kwok.Provider
}

// HCL is a cluster block that reaches this cluster as an existing one, so that a lab
// apply or destroy in a test never deletes the shared cluster.
func (c *Cluster) HCL() string {
	return fmt.Sprintf("cluster \"existing\" {\n  kubeconfig = %q\n}\n", c.Kubeconfig)
}

// Workroot is the kwokctl folder of test clusters; clusters left by a killed test run
// are deleted from it by the next StartKwok.
func Workroot() string { return filepath.Join(os.TempDir(), "lab-kwok-test") }

// StartKwok creates a kwok cluster with nodes simulated nodes. Call Stop when done;
// TestMain is the place: code := m.Run(); c.Stop(); os.Exit(code).
func StartKwok(nodes int) (*Cluster, error) { return startKwok(nodes, "") }

func startKwok(nodes int, kwokConfig string) (*Cluster, error) {
	bin := kwok.DefaultBinDir()
	if _, err := os.Stat(filepath.Join(bin, "kwokctl")); err != nil {
		return nil, fmt.Errorf("kwok binaries missing in %s: run tools/testcluster/build.sh (make testbin)", bin)
	}
	root := Workroot()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	// The kwok provider makes one creation at a time on the machine (test packages run in
	// parallel, and beside make demo) and checks the new cluster is whole; here only the
	// reaping of clusters left by killed runs is serialised.
	unlock, err := lockFile(filepath.Join(root, ".create.lock"))
	if err != nil {
		return nil, err
	}
	reapStale(root, bin)
	unlock()
	name := fmt.Sprintf("lab-test-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	// Each cluster has a workdir of its own: kwokctl locks files of its workdir.
	c := &Cluster{Name: name, Workdir: filepath.Join(root, name), BinDir: bin}
	c.provider = kwok.New(kwok.Config{Name: name, Nodes: nodes, BinDir: bin, Workdir: c.Workdir}, name)
	if err := writeKwokConfig(c.Workdir, kwokConfig); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := os.WriteFile(filepath.Join(root, name+".pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if err := c.provider.Create(ctx, cluster.CreateOptions{}); err != nil {
		c.Stop()
		return nil, err
	}
	conn, err := c.provider.Connect(ctx)
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.Conn = conn
	c.Kubeconfig = filepath.Join(c.Workdir, "lab-test.kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, conn.Kubeconfig, 0o600); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop deletes the cluster and its files.
func (c *Cluster) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = c.provider.Delete(ctx, cluster.DeleteOptions{})
	os.RemoveAll(c.Workdir)
	os.Remove(filepath.Join(Workroot(), c.Name+".pid"))
}

// lockFile takes an exclusive lock across processes; the returned func releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// reapStale deletes clusters whose test process is gone (a run killed by a timeout).
func reapStale(root, bin string) {
	pids, _ := filepath.Glob(filepath.Join(root, "lab-test-*.pid"))
	for _, f := range pids {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid > 0 && syscall.Kill(pid, 0) == nil {
			continue // its test is still running
		}
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = kwok.New(kwok.Config{Name: name, BinDir: bin, Workdir: filepath.Join(root, name)}, name).Delete(ctx, cluster.DeleteOptions{})
		cancel()
		os.RemoveAll(filepath.Join(root, name))
		os.Remove(f)
	}
}
