package k3d

// NodeCount is the number of nodes the cluster has: servers and agents.
func (p *Provider) NodeCount() int { return p.cfg.Servers + p.cfg.Agents }
