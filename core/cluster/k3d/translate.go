package k3d

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	k3dconfig "github.com/k3d-io/k3d/v5/pkg/config"
	configtypes "github.com/k3d-io/k3d/v5/pkg/config/types"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	"sigs.k8s.io/yaml"
)

// apiHostIP is where the Kubernetes API is published: only this machine may reach it.
const apiHostIP = "127.0.0.1"

// k3sNodes selects every k3s node (servers and agents) but not the load balancer.
var k3sNodes = []string{"server:*", "agent:*"}

// SimpleConfig is the cluster as k3d's own config file (v1alpha5 "Simple") would describe it.
func (c Config) SimpleConfig() v1alpha5.SimpleConfig {
	return v1alpha5.SimpleConfig{
		TypeMeta:   configtypes.TypeMeta{Kind: "Simple", APIVersion: v1alpha5.ApiVersion},
		ObjectMeta: configtypes.ObjectMeta{Name: c.Name},
		Servers:    c.Servers,
		Agents:     c.Agents,
		Image:      c.Image,
		ExposeAPI:  v1alpha5.SimpleExposureOpts{HostIP: apiHostIP, HostPort: strconv.Itoa(c.APIPort)},
		Volumes: []v1alpha5.VolumeWithNodeFilters{
			{Volume: c.DataDir + ":" + DataMount, NodeFilters: k3sNodes},
		},
		// The load balancer forwards 80/443 to every node, where the ingress stack's
		// controller listens on host ports. Published on 127.0.0.1 only, as the API is:
		// the lab's hosts resolve there, and nothing of it is offered to the network.
		Ports: []v1alpha5.PortWithNodeFilters{
			{Port: fmt.Sprintf("%s:%d:80", apiHostIP, c.HTTPPort), NodeFilters: []string{"loadbalancer"}},
			{Port: fmt.Sprintf("%s:%d:443", apiHostIP, c.HTTPSPort), NodeFilters: []string{"loadbalancer"}},
		},
		Options: v1alpha5.SimpleConfigOptions{
			K3dOptions: v1alpha5.SimpleConfigOptionsK3d{Wait: true, Timeout: CreateTimeout},
			K3sOptions: v1alpha5.SimpleConfigOptionsK3s{ExtraArgs: c.k3sArgs(), NodeLabels: c.nodeLabels()},
			KubeconfigOptions: v1alpha5.SimpleConfigOptionsKubeconfig{
				UpdateDefaultKubeconfig: c.UpdateDefaultKubeconfig,
				SwitchCurrentContext:    c.SwitchContext,
			},
			Runtime: v1alpha5.SimpleConfigOptionsRuntime{ServersMemory: c.ServerMemory, AgentsMemory: c.AgentMemory},
		},
		Registries: v1alpha5.SimpleConfigRegistries{Config: c.registriesYAML()},
	}
}

func (c Config) k3sArgs() []v1alpha5.K3sArgWithNodeFilters {
	servers := []string{"server:*"}
	// k3s renders this path into its local-path-provisioner config, so the stacks'
	// persistent volumes land in data_dir on the host.
	args := []v1alpha5.K3sArgWithNodeFilters{{Arg: "--default-local-storage-path=" + DataMount, NodeFilters: servers}}
	if c.DisableTraefik {
		args = append(args, v1alpha5.K3sArgWithNodeFilters{Arg: "--disable=traefik", NodeFilters: servers})
	}
	for _, s := range c.K3sArgs {
		arg, filters, _ := splitFilters(s)
		if len(filters) == 0 {
			filters = servers
		}
		args = append(args, v1alpha5.K3sArgWithNodeFilters{Arg: arg, NodeFilters: filters})
	}
	return args
}

func (c Config) nodeLabels() []v1alpha5.LabelWithNodeFilters {
	var out []v1alpha5.LabelWithNodeFilters
	for _, s := range c.NodeLabels {
		label, filters, _ := splitFilters(s)
		if len(filters) == 0 {
			filters = k3sNodes
		}
		out = append(out, v1alpha5.LabelWithNodeFilters{Label: label, NodeFilters: filters})
	}
	return out
}

// registriesYAML is k3s's registries.yaml: Harbor as a mirror of itself (so its TLS settings
// apply) plus the pull-through mirrors; empty when there is nothing to say.
func (c Config) registriesYAML() string {
	mirrors := map[string]any{}
	configs := map[string]any{}
	if c.Harbor {
		mirrors[c.HarborHost()] = map[string]any{"endpoint": []string{"https://" + c.HarborHost()}}
		if c.HarborInsecure {
			configs[c.HarborHost()] = map[string]any{"tls": map[string]any{"insecure_skip_verify": true}}
		}
	}
	regs := make([]string, 0, len(c.Mirrors))
	for r := range c.Mirrors {
		regs = append(regs, r)
	}
	sort.Strings(regs)
	for _, r := range regs {
		mirrors[r] = map[string]any{"endpoint": c.Mirrors[r]}
	}
	if len(mirrors) == 0 {
		return ""
	}
	doc := map[string]any{"mirrors": mirrors}
	if len(configs) > 0 {
		doc["configs"] = configs
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return string(b)
}

// ClusterConfig runs k3d's own pipeline on the SimpleConfig: process, transform to a full
// cluster config, process again and validate. For this config none of it calls Docker.
func (c Config) ClusterConfig(ctx context.Context) (*v1alpha5.ClusterConfig, error) {
	simple := c.SimpleConfig()
	if err := k3dconfig.ProcessSimpleConfig(&simple); err != nil {
		return nil, fmt.Errorf("k3d config: %w", err)
	}
	cc, err := k3dconfig.TransformSimpleToClusterConfig(ctx, runtimes.Docker, simple, "")
	if err != nil {
		return nil, fmt.Errorf("k3d config: %w", err)
	}
	if cc, err = k3dconfig.ProcessClusterConfig(*cc); err != nil {
		return nil, fmt.Errorf("k3d config: %w", err)
	}
	if err := k3dconfig.ValidateClusterConfig(ctx, runtimes.Docker, *cc); err != nil {
		return nil, fmt.Errorf("k3d config: %w", err)
	}
	return cc, nil
}
