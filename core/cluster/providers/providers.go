// Package providers turns the cluster block of lab.hcl into a cluster provider.
package providers

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/cluster/existing"
	"github.com/nexolab/lab/core/cluster/k3d"
	"github.com/nexolab/lab/core/cluster/kwok"
	"github.com/nexolab/lab/core/config"
)

// New decodes the cluster block with its provider's schema and returns the provider.
func New(c *config.Config) (cluster.Provider, hcl.Diagnostics) {
	body, ctx := c.Cluster.Body, c.Cluster.Ctx
	switch c.Cluster.Provider {
	case "existing":
		var cfg existing.Config
		diags := gohcl.DecodeBody(body, ctx, &cfg)
		return existing.New(cfg), diags
	case "kwok":
		var cfg kwok.Config
		diags := gohcl.DecodeBody(body, ctx, &cfg)
		return kwok.New(cfg, c.Lab.Name), diags
	default:
		return k3d.New(c)
	}
}
