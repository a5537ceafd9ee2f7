package ingress

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helm/chartkeys"
	"github.com/nexolab/lab/core/sdk"
)

// Every key the plugin sets exists in the chart's reference values, for both controllers,
// on both kinds of cluster.
func TestValuesUseOnlyChartKeys(t *testing.T) {
	for _, ctl := range controllers {
		for _, provider := range []string{"k3d", "kwok"} {
			t.Run(ctl.name+"/"+provider, func(t *testing.T) {
				cfg := New().Config().(*Config)
				cfg.Controller = ctl.name
				req := &sdk.Request{Config: cfg, Cluster: sdk.Cluster{Provider: provider, Simulated: provider == "kwok"}}
				r := releaseOf(t, req)
				keys, err := chartkeys.Load(r.Chart.Name, r.Chart.Version)
				require.NoError(t, err)
				// The chart copies controller.resources into the container as is (a Kubernetes
				// ResourceRequirements); its values.yaml shows only the requests part.
				assert.Empty(t, keys.Unknown(r.Values, "controller.resources"), "keys not in %s %s", r.Chart.Name, r.Chart.Version)
			})
		}
	}
}

// releaseOf is the one release the stack renders for a request.
func releaseOf(t *testing.T, req *sdk.Request) helm.Release {
	rels, err := New().Releases(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	return rels[0]
}

func TestChartOverrideMergesOverGeneratedValues(t *testing.T) {
	cfg := New().Config().(*Config)
	req := &sdk.Request{Charts: map[string]sdk.ChartOverride{"ingress-nginx": {
		Repository: "oci://mirror.example/charts", Version: "4.15.2",
		Values: map[string]any{"controller": map[string]any{"kind": "Deployment"}},
	}}}
	req.Config = cfg
	r := releaseOf(t, req)
	assert.Equal(t, "oci://mirror.example/charts", r.Chart.Repository)
	assert.Equal(t, "4.15.2", r.Chart.Version)
	ctl := r.Values["controller"].(map[string]any)
	assert.Equal(t, "Deployment", ctl["kind"], "the user's value wins")
	assert.Equal(t, "ClusterIP", ctl["service"].(map[string]any)["type"], "generated values the user did not touch stay")
}

func TestWebhookOffOnlyOnSimulatedClusters(t *testing.T) {
	cfg := New().Config().(*Config)
	webhook := func(provider string) any {
		r := releaseOf(t, &sdk.Request{Config: cfg, Cluster: sdk.Cluster{Provider: provider, Simulated: provider == "kwok"}})
		return r.Values["controller"].(map[string]any)["admissionWebhooks"].(map[string]any)["enabled"]
	}
	assert.Equal(t, true, webhook("k3d"))
	assert.Equal(t, false, webhook("kwok"))
}
