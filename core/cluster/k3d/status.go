package k3d

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	dockerclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	dockerunits "github.com/docker/go-units"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/nexolab/lab/core/cluster"
)

// Node is one container of the cluster, for `lab status`.
type Node struct {
	Name    string
	Role    string // server, agent or loadbalancer
	State   string // Docker's word: running, exited, restarting, ...
	Running bool
}

// Nodes lists the cluster's containers by name; none when the cluster does not exist.
func (p *Provider) Nodes(ctx context.Context) ([]Node, error) {
	c, err := p.lookup(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	return nodesOf(c), nil
}

func nodesOf(c *k3dtypes.Cluster) []Node {
	var out []Node
	for _, n := range c.Nodes {
		out = append(out, Node{Name: n.Name, Role: string(n.Role), State: n.State.Status, Running: n.State.Running})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Status finds the cluster, says whether every node runs, and lists how it differs from
// lab.hcl. An unreachable Docker engine is an error, not a missing cluster.
func (p *Provider) Status(ctx context.Context) (cluster.Status, error) {
	cli, err := engine(ctx)
	if err != nil {
		return cluster.Status{}, err
	}
	defer cli.Close()
	c, err := p.find(ctx)
	if err != nil || c == nil {
		return cluster.Status{}, err
	}
	images, err := containerImages(ctx, cli, c)
	if err != nil {
		return cluster.Status{}, err
	}
	nodes := nodesOf(c)
	running := 0
	for _, n := range nodes {
		if n.Running {
			running++
		}
	}
	st := cluster.Status{
		Exists:      true,
		Running:     running == len(nodes),
		Differences: differences(p.cfg, c.Nodes, images),
	}
	st.Detail = p.detail(ctx, c, running, len(nodes), st.Running)
	return st, nil
}

func (p *Provider) detail(ctx context.Context, c *k3dtypes.Cluster, running, total int, all bool) string {
	servers, agents := countRoles(c.Nodes)
	d := fmt.Sprintf("k3d, %d server(s) and %d agent(s)", servers, agents)
	switch {
	case running == 0:
		return d + ", stopped"
	case !all:
		return fmt.Sprintf("%s, %d of %d containers running", d, running, total)
	}
	raw, err := p.kubeconfigOf(ctx, c)
	if err != nil {
		return d + ", running"
	}
	if v, err := serverVersion(raw, 3*time.Second); err == nil {
		return d + ", Kubernetes " + v
	}
	return d + ", running, API not answering yet"
}

func countRoles(nodes []*k3dtypes.Node) (servers, agents int) {
	for _, n := range nodes {
		switch n.Role {
		case k3dtypes.ServerRole:
			servers++
		case k3dtypes.AgentRole:
			agents++
		}
	}
	return servers, agents
}

// containerImages maps node names to the image they were created from: k3d reports the
// image ID, while lab.hcl names a tag.
func containerImages(ctx context.Context, cli dockerclient.APIClient, c *k3dtypes.Cluster) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range c.Nodes {
		if n.Role != k3dtypes.ServerRole && n.Role != k3dtypes.AgentRole {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, dockerTimeout)
		ins, err := cli.ContainerInspect(qctx, n.Name)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", n.Name, err)
		}
		if ins.Config != nil {
			out[n.Name] = ins.Config.Image
		}
	}
	return out, nil
}

// differences compares what lab.hcl says with the cluster's nodes, one readable line per
// difference that only a re-create can fix.
func differences(cfg Config, nodes []*k3dtypes.Node, images map[string]string) []string {
	var diffs []string
	add := func(what string, has, says any) {
		diffs = append(diffs, fmt.Sprintf("%s: cluster has %v, lab.hcl says %v", what, has, says))
	}
	servers, agents := countRoles(nodes)
	if servers != cfg.Servers {
		add("servers", servers, cfg.Servers)
	}
	if agents != cfg.Agents {
		add("agents", agents, cfg.Agents)
	}
	if img := differentImage(cfg.Image, nodes, images); img != "" {
		add("image", img, cfg.Image)
	}
	for _, m := range []struct {
		name string
		role k3dtypes.Role
		want string
	}{{"server_memory", k3dtypes.ServerRole, cfg.ServerMemory}, {"agent_memory", k3dtypes.AgentRole, cfg.AgentMemory}} {
		if has, ok := differentMemory(nodes, m.role, m.want); !ok {
			add(m.name, has, m.want)
		}
	}
	diffs = append(diffs, portDifferences(cfg, nodes)...)
	if src := differentMount(cfg.DataDir, nodes); src != "" {
		add("data_dir", src, cfg.DataDir)
	}
	if traefik := runsTraefik(nodes); servers > 0 && traefik == cfg.DisableTraefik {
		diffs = append(diffs, traefikLine(traefik))
	}
	return diffs
}

func differentImage(want string, nodes []*k3dtypes.Node, images map[string]string) string {
	for _, n := range nodes {
		if img, ok := images[n.Name]; ok && familiar(img) != familiar(want) {
			return img
		}
	}
	return ""
}

// familiar shortens an image name the way docker prints it, so that
// docker.io/rancher/k3s:v1 and rancher/k3s:v1 compare equal.
func familiar(image string) string {
	if named, err := reference.ParseNormalizedNamed(image); err == nil {
		return reference.FamiliarString(named)
	}
	return image
}

// differentMemory compares the limit of the nodes of one role; k3d reports it rounded.
func differentMemory(nodes []*k3dtypes.Node, role k3dtypes.Role, want string) (string, bool) {
	wantBytes, _ := dockerunits.RAMInBytes(want)
	for _, n := range nodes {
		if n.Role != role {
			continue
		}
		has, err := dockerunits.FromHumanSize(n.Memory)
		if n.Memory == "" || err != nil {
			return "no limit", false
		}
		if math.Abs(float64(has-wantBytes)) > float64(wantBytes)/100 {
			return dockerunits.BytesSize(float64(has)), false
		}
	}
	return "", true
}

// portDifferences reads the load balancer's published ports.
func portDifferences(cfg Config, nodes []*k3dtypes.Node) []string {
	var lb *k3dtypes.Node
	for _, n := range nodes {
		if n.Role == k3dtypes.LoadBalancerRole {
			lb = n
		}
	}
	if lb == nil {
		return []string{"load balancer: cluster has none, lab.hcl needs one for ports 80/443"}
	}
	var diffs []string
	for _, p := range []struct {
		name, container string
		want            int
	}{{"http_port", "80", cfg.HTTPPort}, {"https_port", "443", cfg.HTTPSPort}, {"api_port", k3dtypes.DefaultAPIPort, cfg.APIPort}} {
		if has := hostPort(lb.Ports, p.container); has != strconv.Itoa(p.want) {
			diffs = append(diffs, fmt.Sprintf("%s: cluster has %s, lab.hcl says %d", p.name, has, p.want))
		}
	}
	return diffs
}

// hostPort is the host port published for a container port; k3d's own config writes the
// API port without "/tcp", Docker always with it.
func hostPort(ports nat.PortMap, container string) string {
	for _, key := range []nat.Port{nat.Port(container + "/tcp"), nat.Port(container)} {
		if b := ports[key]; len(b) > 0 {
			return b[0].HostPort
		}
	}
	return "none"
}

// differentMount returns what a k3s node mounts at /mnt/data when it is not data_dir.
func differentMount(dataDir string, nodes []*k3dtypes.Node) string {
	for _, n := range nodes {
		if n.Role != k3dtypes.ServerRole && n.Role != k3dtypes.AgentRole {
			continue
		}
		src := "nothing"
		for _, v := range n.Volumes {
			if s, ok := strings.CutSuffix(v, ":"+DataMount); ok {
				src = s
			}
		}
		if src != dataDir {
			return src
		}
	}
	return ""
}

// runsTraefik reports whether the servers run k3s's bundled Traefik.
func runsTraefik(nodes []*k3dtypes.Node) bool {
	for _, n := range nodes {
		if n.Role == k3dtypes.ServerRole && slices.Contains(n.Cmd, "--disable=traefik") {
			return false
		}
	}
	return true
}

func traefikLine(runs bool) string {
	if runs {
		return "traefik: cluster runs k3s's bundled Traefik, lab.hcl disables it (its ingress stack brings a controller)"
	}
	return "traefik: cluster has k3s's bundled Traefik disabled, lab.hcl enables it (no ingress stack)"
}
