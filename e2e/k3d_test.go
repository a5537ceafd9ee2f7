package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/cluster/k3d"
	"github.com/nexolab/lab/core/cluster/k3d/k3dtest"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// A k3d lab as a user brings it up with `make up`: the lab binary creates the cluster
// through the k3d library on a real Docker engine (the stand-in node images of
// tools/k3dstandin where no image can be pulled), installs ingress, Argo CD and monitoring
// with their real upstream charts, and health, restart and destroy work on it.
func TestK3dLab(t *testing.T) {
	standIn := k3dtest.Images(t, k3d.DefaultImage)
	home := t.TempDir()
	data := filepath.Join(t.TempDir(), "lab-data")
	name := fmt.Sprintf("lab-e2e-%d", os.Getpid()%100000)
	ports := [3]int{freeHostPort(t), freeHostPort(t), freeHostPort(t)}
	l := newLab(t, fmt.Sprintf(`lab "k3de2e" {
  domain   = "k3d.e2e.test"
  data_dir = %q
}

cluster "k3d" {
  name          = %q
  servers       = 1
  agents        = 2
  server_memory = "1g"
  agent_memory  = "1g"
  http_port     = %d
  https_port    = %d
  api_port      = %d
  node_labels   = { "lab.nexolab.io/pool" = "general" }
  k3s_args      = ["--kubelet-arg=max-pods=150@agent:*"]
}

`, data, name, ports[0], ports[1], ports[2])+fmt.Sprintf(`
stack "ingress" {
  controller = "traefik"
  chart "traefik" {
    repository = %[1]q
  }
}

stack "argocd" {
  chart "argo-cd" {
    repository = %[1]q
  }
}

stack "monitoring" {
  chart "kube-prometheus-stack" {
    repository = %[1]q
  }
}
`, testenv.UpstreamRepo(t)))
	l.env = append(l.env, "HOME="+home)
	t.Cleanup(func() {
		if r := l.run("destroy", "--yes", "--purge-data", "--lock-timeout", "2m"); r.code != 0 {
			t.Log(r)
			removeK3d(t, name)
		}
	})

	start := time.Now()
	l.ok("apply")
	t.Logf("apply: cluster and three stacks in %s", time.Since(start).Round(time.Second))

	kubeconfig := filepath.Join(home, ".lab", "k3de2e", "kubeconfig")
	fi, err := os.Stat(kubeconfig)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assertK3dContainers(t, name, data, ports)
	assertK3dNodes(t, kubeconfig, name, standIn)

	h := l.ok("health")
	for _, s := range []string{"ingress", "argocd", "monitoring"} {
		assert.Regexp(t, s+`\s+healthy`, h.stdout)
	}
	if standIn {
		assert.Regexp(t, `skipped`, h.stdout, "no container runs on the stand-in nodes: probes are skipped, never healthy")
	}
	assert.Regexp(t, `cluster k3d "`+name+`": running`, l.ok("status").stdout)

	start = time.Now()
	r := l.ok("restart")
	t.Logf("restart: %s", time.Since(start).Round(time.Second))
	for _, s := range []string{"ingress", "argocd", "monitoring"} {
		assert.Regexp(t, s+`\s+healthy`, r.stdout)
	}
	assertK3dNodes(t, kubeconfig, name, standIn)

	start = time.Now()
	l.ok("destroy", "--yes")
	t.Logf("destroy: %s", time.Since(start).Round(time.Second))
	assert.Empty(t, docker(t, "ps", "-a", "-q", "--filter", "name=k3d-"+name), "no container left")
	assert.Empty(t, docker(t, "network", "ls", "-q", "--filter", "name=k3d-"+name), "no network left")
	assert.Empty(t, docker(t, "volume", "ls", "-q", "--filter", "name=k3d-"+name), "no volume left")
	assert.NoFileExists(t, kubeconfig)
	assert.DirExists(t, data, "destroy keeps the data folder without --purge-data")
}

// assertK3dContainers checks the cluster as Docker shows it: the API and 80/443 published
// on 127.0.0.1 by the load balancer, the data folder at
// /mnt/data and the k3s args and node labels of lab.hcl on every node.
func assertK3dContainers(t *testing.T, name, data string, ports [3]int) {
	t.Helper()
	var lb []struct {
		NetworkSettings struct {
			Ports map[string][]struct{ HostIP, HostPort string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(docker(t, "inspect", "k3d-"+name+"-serverlb")), &lb))
	published := lb[0].NetworkSettings.Ports
	assert.Equal(t, "127.0.0.1", published["6443/tcp"][0].HostIP)
	assert.Equal(t, fmt.Sprint(ports[2]), published["6443/tcp"][0].HostPort)
	assert.Equal(t, fmt.Sprint(ports[0]), published["80/tcp"][0].HostPort)
	assert.Equal(t, "127.0.0.1", published["80/tcp"][0].HostIP, "nothing of the lab is offered to the network")
	assert.Equal(t, "127.0.0.1", published["443/tcp"][0].HostIP)
	assert.Equal(t, fmt.Sprint(ports[1]), published["443/tcp"][0].HostPort)

	for _, node := range []string{"server-0", "agent-0", "agent-1"} {
		var c []struct {
			Config struct{ Cmd []string }
			Mounts []struct{ Source, Destination string }
		}
		require.NoError(t, json.Unmarshal([]byte(docker(t, "inspect", "k3d-"+name+"-"+node)), &c))
		mounted := false
		for _, m := range c[0].Mounts {
			mounted = mounted || (m.Source == data && m.Destination == "/mnt/data")
		}
		assert.True(t, mounted, "%s mounts %s at /mnt/data", node, data)
		cmd := strings.Join(c[0].Config.Cmd, " ")
		assert.Contains(t, cmd, "--node-label lab.nexolab.io/pool=general", node)
		if strings.HasPrefix(node, "agent") {
			assert.Contains(t, cmd, "--kubelet-arg=max-pods=150", node)
		} else {
			assert.Contains(t, cmd, "--disable=traefik", node, "the ingress stack brings its own controller")
		}
	}
}

// assertK3dNodes checks the nodes through the lab's kubeconfig: three, Ready, labelled.
func assertK3dNodes(t *testing.T, kubeconfig, name string, standIn bool) {
	t.Helper()
	b, err := os.ReadFile(kubeconfig)
	require.NoError(t, err)
	c, err := kube.Connect(sdk.Cluster{Kubeconfig: b}, nil)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		list, err := c.Kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		require.NoError(ct, err)
		ready := 0
		for _, n := range list.Items {
			assert.Equal(ct, "general", n.Labels["lab.nexolab.io/pool"], n.Name)
			assert.True(ct, strings.HasPrefix(n.Name, "k3d-"+name+"-"), n.Name)
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
			if standIn {
				assert.Equal(ct, "fake", n.Annotations["kwok.x-k8s.io/node"], "the stand-in's nodes are simulated")
			}
		}
		assert.Equal(ct, 3, ready, "server and two agents Ready")
	}, 2*time.Minute, time.Second)
}

// removeK3d removes what Docker still holds of a cluster a failed test could not destroy.
func removeK3d(t *testing.T, name string) {
	filter := "name=k3d-" + name
	for _, kind := range []struct{ list, remove []string }{
		{[]string{"ps", "-aq"}, []string{"rm", "-f"}},
		{[]string{"network", "ls", "-q"}, []string{"network", "rm"}},
		{[]string{"volume", "ls", "-q"}, []string{"volume", "rm", "-f"}},
	} {
		if ids := strings.Fields(docker(t, append(kind.list, "--filter", filter)...)); len(ids) > 0 {
			t.Log(docker(t, append(kind.remove, ids...)...))
		}
	}
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).Output()
	require.NoError(t, err, "docker %s", strings.Join(args, " "))
	return strings.TrimSpace(string(out))
}

func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
