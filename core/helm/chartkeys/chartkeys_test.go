package chartkeys

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtractAndCheck(t *testing.T) {
	values := []byte(`
controller:
  kind: Deployment
  config: {}
  hostPort:
    enabled: false
  tolerations: []
`)
	schema := []byte(`{"properties":{"controller":{"properties":{"extra":{"type":"object"}}}}}`)
	keys, err := Extract(values, schema)
	require.NoError(t, err)
	assert.Contains(t, keys, "controller.config.*")
	assert.Contains(t, keys, "controller.extra.*")

	k := &Keys{paths: map[string]bool{}, freeForm: map[string]bool{}}
	for _, p := range keys {
		if len(p) > 2 && p[len(p)-2:] == ".*" {
			k.freeForm[p[:len(p)-2]] = true
			continue
		}
		k.paths[p] = true
	}
	got := k.Unknown(map[string]any{
		"controller": map[string]any{
			"kind":        "DaemonSet",
			"config":      map[string]any{"anything": "goes"},
			"hostPort":    map[string]any{"enabled": true, "port": 80},
			"tolerations": []any{map[string]any{"key": "x"}},
			"typo":        1,
		},
		"missing": map[string]any{"a": 1},
	})
	assert.Equal(t, []string{"controller.hostPort.port", "controller.typo", "missing"}, got)
}

func TestEmbeddedKeyListsLoad(t *testing.T) {
	k, err := Load("ingress-nginx", "4.15.1")
	require.NoError(t, err)
	assert.Empty(t, k.Unknown(map[string]any{"controller": map[string]any{"kind": "DaemonSet"}}))
	_, err = Load("ingress-nginx", "0.0.0")
	assert.Error(t, err)
}
