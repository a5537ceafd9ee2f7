package k3d

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/sdk"
)

// integrationProvider is the integration fixture on free ports, or a skip when no Docker
// engine answers (the CI machines of this project have none).
func integrationProvider(t *testing.T) *Provider {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real cluster")
	}
	cli, err := engine(context.Background())
	if err != nil {
		t.Skipf("needs a Docker engine: %v", err)
	}
	_ = cli.Close()
	home := t.TempDir()
	p := load(t, "testdata/integration.hcl")
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, ".kube", "config"))
	p.cfg.DataDir = filepath.Join(home, "data")
	p.cfg.HTTPPort, p.cfg.HTTPSPort, p.cfg.APIPort = freePort(t), freePort(t), freePort(t)
	if testing.Verbose() {
		SetLogOutput(os.Stderr)
		t.Cleanup(func() { SetLogOutput(io.Discard) })
	}
	return p
}

// TestRealCluster creates, stops, starts and deletes a real k3d cluster.
func TestRealCluster(t *testing.T) {
	p := integrationProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = p.Delete(context.Background(), cluster.DeleteOptions{PurgeData: true}) })

	for _, c := range p.Preflight(ctx, sdk.Footprint{}) {
		t.Logf("preflight %s: %v %s", c.Name, c.OK, c.Message)
	}
	st, err := p.Status(ctx)
	require.NoError(t, err)
	require.False(t, st.Exists, "a cluster named %s is in the way", p.Name())

	require.NoError(t, p.Create(ctx, cluster.CreateOptions{}))
	assert.Error(t, p.Create(ctx, cluster.CreateOptions{}), "a second create refuses")
	running(t, p, ctx)
	assert.DirExists(t, p.cfg.DataDir)
	assert.FileExists(t, p.KubeconfigPath())
	assertHarborHost(t, p, ctx)

	// The same cluster seen through a different lab.hcl.
	other := *p
	other.cfg.Agents, other.cfg.HTTPPort = 2, p.cfg.HTTPPort+1
	st, err = other.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"agents: cluster has 1, lab.hcl says 2",
		"http_port: cluster has " + itoa(p.cfg.HTTPPort) + ", lab.hcl says " + itoa(other.cfg.HTTPPort),
	}, st.Differences)

	require.NoError(t, p.Stop(ctx))
	st, err = p.Status(ctx)
	require.NoError(t, err)
	assert.True(t, st.Exists)
	assert.False(t, st.Running)
	assert.Contains(t, st.Detail, "stopped")

	require.NoError(t, p.Start(ctx))
	running(t, p, ctx)
	assertHarborHost(t, p, ctx)

	marker := filepath.Join(p.cfg.DataDir, "kept")
	require.NoError(t, os.WriteFile(marker, nil, 0o644))
	require.NoError(t, p.Delete(ctx, cluster.DeleteOptions{}))
	st, err = p.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st.Exists)
	assert.FileExists(t, marker, "data_dir is kept without PurgeData")
	assert.NoFileExists(t, p.KubeconfigPath())
	require.NoError(t, p.Delete(ctx, cluster.DeleteOptions{PurgeData: true}), "deleting a missing cluster is no error")
	assert.NoDirExists(t, p.cfg.DataDir)
}

// TestRealCreateRollsBack: a create that fails leaves nothing behind.
func TestRealCreateRollsBack(t *testing.T) {
	p := integrationProvider(t)
	p.cfg.Name = "lab-it-rollback"
	p.cfg.Image = "rancher/k3s:v0.0.0-does-not-exist"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = p.Delete(context.Background(), cluster.DeleteOptions{}) })

	err := p.Create(ctx, cluster.CreateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rolled back")
	st, err := p.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st.Exists)
	assert.NoDirExists(t, p.cfg.DataDir)
}

func running(t *testing.T, p *Provider, ctx context.Context) {
	t.Helper()
	st, err := p.Status(ctx)
	require.NoError(t, err)
	assert.True(t, st.Exists)
	assert.True(t, st.Running, st.Detail)
	assert.Empty(t, st.Differences)
	t.Log(st.Detail)

	c, err := p.Connect(ctx)
	require.NoError(t, err)
	v, err := cluster.ServerVersion(c, 30*time.Second)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(v, "v1.33."), v)

	nodes, err := p.Nodes(ctx)
	require.NoError(t, err)
	assert.Len(t, nodes, 3, "server, agent, load balancer")
	for _, n := range nodes {
		assert.True(t, n.Running, "%s is %s", n.Name, n.State)
	}
}

// assertHarborHost checks that the nodes resolve harbor.<domain> for containerd.
func assertHarborHost(t *testing.T, p *Provider, ctx context.Context) {
	t.Helper()
	c, err := p.find(ctx)
	require.NoError(t, err)
	for _, n := range c.Nodes {
		if n.Role != "server" && n.Role != "agent" {
			continue
		}
		r, err := runtimes.Docker.ExecInNodeGetLogs(ctx, n, []string{"cat", "/etc/hosts"})
		require.NoError(t, err)
		hosts, _ := io.ReadAll(r)
		assert.Contains(t, string(hosts), p.cfg.HarborHost(), n.Name)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
