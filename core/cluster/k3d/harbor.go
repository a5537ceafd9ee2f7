package k3d

import (
	"context"
	"fmt"

	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
)

// The nodes' containerd resolves registry names itself, outside the cluster's DNS, and
// harbor.<domain> is only in the host's /etc/hosts. So each node gets a record pointing
// harbor.<domain> at the Docker host, whose ports 80/443 lead to the load balancer and the
// ingress in front of Harbor. k3d re-adds host.k3d.internal the same way on every start.

// harborAliases is the record for a start; none when lab.hcl has no Harbor.
func (p *Provider) harborAliases(env *k3dtypes.EnvironmentInfo) []k3dtypes.HostAlias {
	if !p.cfg.Harbor || env == nil || !env.HostGateway.IsValid() {
		return nil
	}
	return []k3dtypes.HostAlias{{IP: env.HostGateway.String(), Hostnames: []string{p.cfg.HarborHost()}}}
}

// injectHarborHost adds the record to a cluster just made: ClusterRun takes host aliases
// only as fixed addresses, and the host's address is known only once the network exists.
func (p *Provider) injectHarborHost(ctx context.Context, c *k3dtypes.Cluster) error {
	if !p.cfg.Harbor {
		return nil
	}
	ip, err := k3dclient.GetHostIP(ctx, runtimes.Docker, c)
	if err != nil {
		return fmt.Errorf("find the Docker host's address for %s: %w", p.cfg.HarborHost(), err)
	}
	aliases := p.harborAliases(&k3dtypes.EnvironmentInfo{HostGateway: ip})
	action := k3dclient.NewHostAliasesInjectEtcHostsAction(runtimes.Docker, aliases)
	for _, n := range c.Nodes {
		if n.Role != k3dtypes.ServerRole && n.Role != k3dtypes.AgentRole {
			continue
		}
		if err := action.Run(ctx, n); err != nil {
			return fmt.Errorf("add %s to /etc/hosts of %s: %w", p.cfg.HarborHost(), n.Name, err)
		}
	}
	return nil
}
