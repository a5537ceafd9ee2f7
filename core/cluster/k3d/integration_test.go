package k3d

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/cluster/k3d/k3dtest"
	"github.com/nexolab/lab/core/sdk"
)

// These tests drive the k3d library against a real Docker engine. Where no image can be
// pulled, the node images are the stand-ins of tools/k3dstandin (a real control plane,
// nodes simulated by kwok); a machine with the real images runs those.

// integrationProvider is the integration fixture on free ports with its own HOME, or a
// skip when no Docker engine answers or the images cannot be had.
func integrationProvider(t *testing.T) (*Provider, bool) {
	t.Helper()
	p := load(t, "testdata/integration.hcl")
	standIn := k3dtest.Images(t, p.cfg.Image)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, ".kube", "config"))
	p.cfg.DataDir = filepath.Join(home, "data")
	p.cfg.HTTPPort, p.cfg.HTTPSPort, p.cfg.APIPort = freePort(t), freePort(t), freePort(t)
	if testing.Verbose() {
		SetLogOutput(os.Stderr)
		t.Cleanup(func() { SetLogOutput(io.Discard) })
	}
	return p, standIn
}

// TestRealCluster creates, stops, starts and deletes a real k3d cluster, and checks it as
// Docker and the Kubernetes API show it.
func TestRealCluster(t *testing.T) {
	p, standIn := integrationProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = p.Delete(context.Background(), cluster.DeleteOptions{PurgeData: true}) })

	st, err := p.Status(ctx)
	require.NoError(t, err)
	require.False(t, st.Exists, "a cluster named %s is in the way", p.Name())

	require.NoError(t, p.Create(ctx, cluster.CreateOptions{}))
	assert.ErrorContains(t, p.Create(ctx, cluster.CreateOptions{}), `k3d cluster "lab-it" already exists`)
	running(t, p, ctx, standIn)
	assert.DirExists(t, p.cfg.DataDir)
	fi, err := os.Stat(p.KubeconfigPath())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(os.Getenv("HOME"), ".lab", "labit", "kubeconfig"), p.KubeconfigPath())
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assertContainers(t, p, ctx)
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
	running(t, p, ctx, standIn)
	assertHarborHost(t, p, ctx)

	marker := filepath.Join(p.cfg.DataDir, "kept")
	require.NoError(t, os.WriteFile(marker, nil, 0o644))
	require.NoError(t, p.Delete(ctx, cluster.DeleteOptions{}))
	st, err = p.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st.Exists)
	assertNothingLeft(t, p)
	assert.FileExists(t, marker, "data_dir is kept without PurgeData")
	assert.NoFileExists(t, p.KubeconfigPath())
	require.NoError(t, p.Delete(ctx, cluster.DeleteOptions{PurgeData: true}), "deleting a missing cluster is no error")
	assert.NoDirExists(t, p.cfg.DataDir)
}

// TestRealCreateRollsBack: a create that fails, at whatever step, leaves nothing of the
// cluster behind and says what failed and what to do.
func TestRealCreateRollsBack(t *testing.T) {
	p, _ := integrationProvider(t)
	p.cfg.Name = "lab-it-rollback"
	t.Cleanup(func() { _ = p.Delete(context.Background(), cluster.DeleteOptions{}) })
	ctx := context.Background()

	t.Run("image that cannot be pulled", func(t *testing.T) {
		q := *p
		q.cfg.Image = "rancher/k3s:v0.0.0-does-not-exist"
		err := q.Create(ctx, cluster.CreateOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `create k3d cluster "lab-it-rollback" failed while creating the node containers: Docker has no image rancher/k3s:v0.0.0-does-not-exist and could not pull it`)
		assert.Contains(t, err.Error(), "(rolled back: nothing of the cluster is left)")
		assertNothingLeft(t, &q)
		assert.NoDirExists(t, q.cfg.DataDir, "the data folder lab made for the create is gone")
		assert.NoFileExists(t, q.KubeconfigPath())
	})

	t.Run("start timeout", func(t *testing.T) {
		q := *p
		// The server cannot be ready this fast; the limit hits while k3d waits for it.
		q.createTimeout = 3 * time.Second
		require.NoError(t, os.MkdirAll(q.cfg.DataDir, 0o755))
		kept := filepath.Join(q.cfg.DataDir, "kept")
		require.NoError(t, os.WriteFile(kept, nil, 0o644))
		err := q.Create(ctx, cluster.CreateOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "creating the k3d cluster did not finish within 3s")
		assert.Contains(t, err.Error(), "`docker logs k3d-lab-it-rollback-server-0` shows why")
		assert.Contains(t, err.Error(), "rolled back")
		assertNothingLeft(t, &q)
		assert.FileExists(t, kept, "a data folder that was there before is kept")
		require.NoError(t, os.RemoveAll(q.cfg.DataDir))
	})

	t.Run("interrupted", func(t *testing.T) {
		q := *p
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(2*time.Second, cancel)
		err := q.Create(cctx, cluster.CreateOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "interrupted before it finished")
		assert.Contains(t, err.Error(), "rolled back")
		assertNothingLeft(t, &q)
		assert.NoDirExists(t, q.cfg.DataDir)
	})
}

// TestRealPreflight checks the machine against the real engine: a port another container
// publishes is named with that container, and stacks that need more than Docker has fail.
func TestRealPreflight(t *testing.T) {
	p, _ := integrationProvider(t)
	ctx := context.Background()
	cli, err := engine(ctx)
	require.NoError(t, err)
	defer cli.Close()
	port := nat.Port("8080/tcp")
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: "ghcr.io/k3d-io/k3d-tools:" + libraryVersion(), Cmd: []string{"noop"}, ExposedPorts: nat.PortSet{port: {}}},
		&container.HostConfig{PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: itoa(p.cfg.APIPort)}}}}, nil, nil, "lab-it-port-holder")
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}) })
	require.NoError(t, cli.ContainerStart(ctx, c.ID, container.StartOptions{}))

	checks := p.Preflight(ctx, sdk.Footprint{MemoryRequestBytes: 1 << 50, CPURequestMillis: 1 << 20})
	api := check(t, checks, "port "+itoa(p.cfg.APIPort)+" (Kubernetes API)")
	assert.False(t, api.OK)
	assert.Equal(t, "port "+itoa(p.cfg.APIPort)+" is published by the Docker container lab-it-port-holder (image ghcr.io/k3d-io/k3d-tools:"+libraryVersion()+
		"): stop it (docker stop lab-it-port-holder) or set api_port in the cluster block", api.Message)
	assert.True(t, check(t, checks, "docker").OK)
	assert.Contains(t, check(t, checks, "memory").Message, "the stacks request 1PiB of memory but the nodes have 2GiB")
	assert.Contains(t, check(t, checks, "cpus").Message, "the stacks request 1048.576 CPUs but Docker has")

	err = p.Create(ctx, cluster.CreateOptions{})
	assert.ErrorContains(t, err, "lab-it-port-holder", "create refuses with the same message")
	assertNothingLeft(t, p)
}

func running(t *testing.T, p *Provider, ctx context.Context, standIn bool) {
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
	want := "v1.33." // the k3s release lab pins
	if standIn {
		want = "v1.37." // the stand-in serves the kwok test cluster's control plane
	}
	assert.True(t, strings.HasPrefix(v, want), v)

	nodes, err := p.Nodes(ctx)
	require.NoError(t, err)
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
		assert.True(t, n.Running, "%s is %s", n.Name, n.State)
	}
	assert.Equal(t, []string{"k3d-lab-it-agent-0", "k3d-lab-it-server-0", "k3d-lab-it-serverlb"}, names)
	assertKubeNodes(t, c)
}

// assertKubeNodes checks the nodes as the API server shows them: both Ready, with the
// node labels of lab.hcl.
func assertKubeNodes(t *testing.T, c sdk.Cluster) {
	t.Helper()
	rc, err := clientcmd.RESTConfigFromKubeConfig(c.Kubeconfig)
	require.NoError(t, err)
	kc, err := kubernetes.NewForConfig(rc)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		list, err := kc.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		require.NoError(ct, err)
		ready := map[string]bool{}
		for _, n := range list.Items {
			assert.Equal(ct, "general", n.Labels["lab.nexolab.io/pool"], n.Name)
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready[n.Name] = true
				}
			}
		}
		assert.Equal(ct, map[string]bool{"k3d-lab-it-server-0": true, "k3d-lab-it-agent-0": true}, ready)
	}, 2*time.Minute, time.Second)
}

// assertContainers checks the containers as Docker shows them: the load balancer publishes
// 80/443 and the API, all on 127.0.0.1, every node mounts data_dir at /mnt/data and runs the
// k3s args of lab.hcl, and the nodes have the registries configuration for Harbor.
func assertContainers(t *testing.T, p *Provider, ctx context.Context) {
	t.Helper()
	cli, err := engine(ctx)
	require.NoError(t, err)
	defer cli.Close()
	lb, err := cli.ContainerInspect(ctx, "k3d-lab-it-serverlb")
	require.NoError(t, err)
	published := func(port string) []nat.PortBinding { return lb.NetworkSettings.Ports[nat.Port(port)] }
	assert.Equal(t, []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: itoa(p.cfg.APIPort)}}, published("6443/tcp"))
	assert.Equal(t, []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: itoa(p.cfg.HTTPPort)}}, published("80/tcp"))
	assert.Equal(t, []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: itoa(p.cfg.HTTPSPort)}}, published("443/tcp"))

	for name, args := range map[string][]string{
		"k3d-lab-it-server-0": {"server", "--default-local-storage-path=/mnt/data", "--disable=traefik"},
		"k3d-lab-it-agent-0":  {"agent", "--kubelet-arg=max-pods=150"},
	} {
		n, err := cli.ContainerInspect(ctx, name)
		require.NoError(t, err)
		mounted := false
		for _, m := range n.Mounts {
			mounted = mounted || (m.Source == p.cfg.DataDir && m.Destination == DataMount)
		}
		assert.True(t, mounted, "%s mounts %s at %s: %+v", name, p.cfg.DataDir, DataMount, n.Mounts)
		for _, a := range args {
			assert.Contains(t, n.Config.Cmd, a, name)
		}
		assert.Subset(t, n.Config.Cmd, []string{"--node-label", "lab.nexolab.io/pool=general"}, name)

		rc, _, err := cli.CopyFromContainer(ctx, name, "/etc/rancher/k3s/registries.yaml")
		require.NoError(t, err, name)
		tr := tar.NewReader(rc)
		_, err = tr.Next()
		require.NoError(t, err)
		reg, err := io.ReadAll(tr)
		rc.Close()
		require.NoError(t, err)
		assert.Contains(t, string(reg), "harbor.labit.test:", name)
		assert.Contains(t, string(reg), "https://harbor.labit.test", name)
		assert.Contains(t, string(reg), "insecure_skip_verify: true", name)
	}
}

// assertNothingLeft checks that Docker holds no container, network or volume of the cluster.
func assertNothingLeft(t *testing.T, p *Provider) {
	t.Helper()
	ctx := context.Background()
	cli, err := engine(ctx)
	require.NoError(t, err)
	defer cli.Close()
	byName := filters.NewArgs(filters.Arg("name", "k3d-"+p.cfg.Name))
	containers, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byName})
	require.NoError(t, err)
	assert.Empty(t, containers, "containers of %s", p.cfg.Name)
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: byName})
	require.NoError(t, err)
	assert.Empty(t, nets, "networks of %s", p.cfg.Name)
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: byName})
	require.NoError(t, err)
	assert.Empty(t, vols.Volumes, "volumes of %s", p.cfg.Name)
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
