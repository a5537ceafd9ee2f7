package nexoapps

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// nexo-local gets the architecture table's quota; an environment with more replicas
// gets room for them and one surge pod.
func TestQuotaFitsTheEnvironment(t *testing.T) {
	cfg := defaults()
	cfg.Environment = map[string]EnvConfig{"prod": {Replicas: 3}}
	qs := map[string]string{}
	for _, ns := range namespacesOf(cfg) {
		qs[ns.Name] = ns.Quota.RequestsCPU + "/" + ns.Quota.RequestsMemory + " " + ns.Quota.LimitsCPU + "/" + ns.Quota.LimitsMemory
	}
	assert.Equal(t, "2000m/3Gi 4000m/6Gi", qs["nexo-local"])
	assert.Equal(t, "2000m/3Gi 4000m/6Gi", qs["nexo-qa"])
	assert.Equal(t, "2000m/3Gi 5500m/6Gi", qs["nexo-prod"], "3 × (500m + 1000m) and a surge nexo-be of 1000m")
	assert.Contains(t, qs, dataNamespace)
}

// The default lab (four environments) requests what fits the lab's 6 CPU /
// 12 GB cluster next to the other stacks.
func TestFootprintOfTheDefaultLab(t *testing.T) {
	f := New().Info().Footprint
	assert.EqualValues(t, 4*(2*50+2*100)+250+100+50, f.CPURequestMillis)
	assert.EqualValues(t, (4*(2*128+2*256)+768+256+64)<<20, f.MemoryRequestBytes)
}
