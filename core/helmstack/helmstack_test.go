package helmstack

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

type testConfig struct {
	Size string `hcl:"size"`
}

func testSpec() Spec[testConfig] {
	return Spec[testConfig]{
		Info:     sdk.Info{Name: "t"},
		Defaults: func() *testConfig { return &testConfig{Size: "1Gi"} },
		Validate: func(cfg *testConfig, _ *sdk.Request, d *sdk.Diagnostics) {
			if cfg.Size == "" {
				d.Errorf("size", "size is empty")
			}
		},
		Namespaces: func(*testConfig) []Namespace { return []Namespace{{Name: "t"}} },
		Releases: func(s *Session[testConfig]) ([]helm.Release, error) {
			return []helm.Release{{Name: "r", Namespace: "t", Chart: helm.Chart{Name: "c", Version: "1.0.0", Repository: "https://charts.example"},
				Values: map[string]any{"size": s.Config.Size, "keep": true}}}, nil
		},
	}
}

// The user's chart block pins the chart and wins over generated values it names, leaving
// the others; rendering needs no cluster.
func TestReleasesMergeChartOverrides(t *testing.T) {
	st := New(testSpec())
	req := &sdk.Request{Charts: map[string]sdk.ChartOverride{"c": {Repository: "oci://mirror.example/charts", Version: "1.0.1",
		Values: map[string]any{"size": "5Gi"}}}}
	rels, err := st.Releases(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	assert.Equal(t, "oci://mirror.example/charts", rels[0].Chart.Repository)
	assert.Equal(t, "1.0.1", rels[0].Chart.Version)
	assert.Equal(t, map[string]any{"size": "5Gi", "keep": true}, rels[0].Values)
}

// A config the Spec's rules refuse stops every work method before it reaches a cluster.
func TestInvalidConfigStopsWork(t *testing.T) {
	st := New(testSpec())
	req := &sdk.Request{Config: &testConfig{}}
	d := st.Validate(context.Background(), req)
	require.Len(t, d, 1)
	assert.Equal(t, "size", d[0].Attribute)
	_, err := st.Install(context.Background(), req)
	assert.ErrorContains(t, err, "size: size is empty")
	_, err = st.Render(context.Background(), req)
	assert.ErrorContains(t, err, "size: size is empty")
}

// What runs on every node goes to the per-node footprint, which the host multiplies.
func TestFootprintPerNode(t *testing.T) {
	fixed, perNode := kube.FootprintOf([]kube.Container{
		{Replicas: 2, CPU: "100m", Memory: "64Mi", CPULimit: "200m", MemoryLimit: "128Mi"},
		{Replicas: 0, CPU: "500m", Memory: "1Gi", CPULimit: "1", MemoryLimit: "2Gi"}, // a hook Job
		{PerNode: true, CPU: "10m", Memory: "24Mi", CPULimit: "100m", MemoryLimit: "64Mi"},
	})
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 200, MemoryRequestBytes: 128 << 20, CPULimitMillis: 400, MemoryLimitBytes: 256 << 20}, fixed)
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 10, MemoryRequestBytes: 24 << 20, CPULimitMillis: 100, MemoryLimitBytes: 64 << 20}, perNode)
	assert.Equal(t, int64(230), fixed.Plus(perNode, 3).CPURequestMillis)
}
