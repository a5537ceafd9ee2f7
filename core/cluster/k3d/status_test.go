package k3d

import (
	"testing"

	"github.com/docker/go-connections/nat"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	"github.com/stretchr/testify/assert"
)

// observedCluster is what k3d reports of a cluster made from the architecture fixture:
// Docker's view of the containers (rounded memory, "/tcp" ports, the command line).
func observedCluster(dataDir string) ([]*k3dtypes.Node, map[string]string) {
	k3s := func(name string, role k3dtypes.Role, cmd ...string) *k3dtypes.Node {
		return &k3dtypes.Node{Name: name, Role: role, Memory: "4.295GB", Cmd: cmd,
			Volumes: []string{dataDir + ":/mnt/data", "k3d-nexo-local-images:/k3d/images"},
			State:   k3dtypes.NodeState{Running: true, Status: "running"}}
	}
	nodes := []*k3dtypes.Node{
		k3s("k3d-nexo-local-server-0", k3dtypes.ServerRole, "server", "--default-local-storage-path=/mnt/data", "--disable=traefik", "--tls-san=0.0.0.0"),
		k3s("k3d-nexo-local-agent-0", k3dtypes.AgentRole, "agent"),
		k3s("k3d-nexo-local-agent-1", k3dtypes.AgentRole, "agent"),
		{Name: "k3d-nexo-local-serverlb", Role: k3dtypes.LoadBalancerRole, State: k3dtypes.NodeState{Running: true, Status: "running"},
			Ports: nat.PortMap{
				"80/tcp":   {{HostPort: "80"}},
				"443/tcp":  {{HostPort: "443"}},
				"6443/tcp": {{HostIP: "127.0.0.1", HostPort: "6550"}},
			}},
	}
	images := map[string]string{}
	for _, n := range nodes[:3] {
		images[n.Name] = "docker.io/rancher/k3s:v1.33.9-k3s1"
	}
	return nodes, images
}

func TestNoDifferences(t *testing.T) {
	cfg := load(t, "testdata/architecture.hcl").Config()
	nodes, images := observedCluster(cfg.DataDir)
	assert.Empty(t, differences(cfg, nodes, images))
}

func TestDifferences(t *testing.T) {
	cfg := load(t, "testdata/architecture.hcl").Config()
	nodes, images := observedCluster("/old/data")
	nodes = append(nodes[:2], nodes[3]) // one agent less
	nodes[0].Cmd = []string{"server"}   // Traefik left on
	nodes[1].Memory = "2.147GB"
	images[nodes[0].Name] = "rancher/k3s:v1.31.5-k3s1"
	nodes[2].Ports["80/tcp"] = []nat.PortBinding{{HostPort: "8080"}}
	delete(nodes[2].Ports, "443/tcp")

	assert.Equal(t, []string{
		"agents: cluster has 1, lab.hcl says 2",
		"image: cluster has rancher/k3s:v1.31.5-k3s1, lab.hcl says rancher/k3s:v1.33.9-k3s1",
		"agent_memory: cluster has 2GiB, lab.hcl says 4g",
		"http_port: cluster has 8080, lab.hcl says 80",
		"https_port: cluster has none, lab.hcl says 443",
		"data_dir: cluster has /old/data, lab.hcl says /Volumes/Backup/nexo-cloudlab",
		"traefik: cluster runs k3s's bundled Traefik, lab.hcl disables it (its ingress stack brings a controller)",
	}, differences(cfg, nodes, images))
}

func TestNodesOf(t *testing.T) {
	nodes, _ := observedCluster("/d")
	nodes[1].State = k3dtypes.NodeState{Status: "exited"}
	got := nodesOf(&k3dtypes.Cluster{Nodes: nodes})
	assert.Equal(t, []Node{
		{Name: "k3d-nexo-local-agent-0", Role: "agent", State: "exited"},
		{Name: "k3d-nexo-local-agent-1", Role: "agent", State: "running", Running: true},
		{Name: "k3d-nexo-local-server-0", Role: "server", State: "running", Running: true},
		{Name: "k3d-nexo-local-serverlb", Role: "loadbalancer", State: "running", Running: true},
	}, got)
}
