package k3d_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/cluster/providers"
	"github.com/nexolab/lab/core/config"
)

// TestProviderSeam: the providers package builds this provider for `cluster "k3d"` and for
// a lab.hcl without a cluster block, and it offers preflight.
func TestProviderSeam(t *testing.T) {
	for _, f := range []string{"testdata/architecture.hcl", "testdata/default.hcl"} {
		c, diags := config.Load(f, config.Options{})
		require.False(t, diags.HasErrors(), config.Lines(diags))
		p, diags := providers.New(c)
		require.False(t, diags.HasErrors(), config.Lines(diags))
		assert.Equal(t, "k3d", p.Kind())
		assert.Equal(t, "nexo-local", p.Name())
		assert.True(t, p.Owned())
		_, ok := p.(cluster.Preflighter)
		assert.True(t, ok)
	}
}
