package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWavesOfTheLab(t *testing.T) {
	g := Graph{
		"ingress":    nil,
		"argocd":     {"ingress"},
		"monitoring": {"ingress"},
		"logging":    {"ingress"},
		"harbor":     {"ingress"},
		"nexo-apps":  {"argocd", "harbor", "monitoring"},
	}
	waves, err := g.Waves()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"ingress"},
		{"argocd", "harbor", "logging", "monitoring"},
		{"nexo-apps"},
	}, waves)
	assert.Equal(t, []string{"nexo-apps"}, g.Dependents("harbor"))
	assert.ElementsMatch(t, []string{"argocd", "harbor", "logging", "monitoring", "nexo-apps"}, g.Dependents("ingress"))
}

func TestCycleIsNamedWithItsPath(t *testing.T) {
	g := Graph{"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": nil}
	_, err := g.Waves()
	var ce *CycleError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{"a", "b", "c", "a"}, ce.Path)
	assert.EqualError(t, err, "dependency cycle: a -> b -> c -> a")
}

func TestSelfDependencyIsACycle(t *testing.T) {
	_, err := Graph{"a": {"a"}}.Waves()
	assert.EqualError(t, err, "dependency cycle: a -> a")
}

func TestMissingDependency(t *testing.T) {
	err := Graph{"argocd": {"ingress"}}.Check()
	var me *MissingError
	require.ErrorAs(t, err, &me)
	assert.EqualError(t, err, `stack "argocd" depends on "ingress", which is not enabled`)
}
