// Package k3d is the provider of the lab's default cluster, made through the k3d library.
package k3d

import (
	"context"
	"errors"

	"github.com/hashicorp/hcl/v2"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/sdk"
)

var errTODO = errors.New("the k3d provider is not built yet")

// Provider is the k3d cluster of the lab.
type Provider struct{ name string }

// New decodes the `cluster "k3d"` block.
func New(c *config.Config) (*Provider, hcl.Diagnostics) {
	return &Provider{name: c.Lab.Name}, nil
}

func (p *Provider) Kind() string { return "k3d" }
func (p *Provider) Name() string { return p.name }
func (p *Provider) Owned() bool  { return true }
func (p *Provider) Status(context.Context) (cluster.Status, error) {
	return cluster.Status{}, errTODO
}
func (p *Provider) Create(context.Context, cluster.CreateOptions) error { return errTODO }
func (p *Provider) Start(context.Context) error                         { return errTODO }
func (p *Provider) Stop(context.Context) error                          { return errTODO }
func (p *Provider) Delete(context.Context, cluster.DeleteOptions) error { return errTODO }
func (p *Provider) Connect(context.Context) (sdk.Cluster, error)        { return sdk.Cluster{}, errTODO }
