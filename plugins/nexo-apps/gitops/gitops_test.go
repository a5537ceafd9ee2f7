package gitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"sigs.k8s.io/yaml"
)

// The layout the Applications expect, each chart rendering with each environment's
// values file as Argo CD would render it.
func TestWriteTheRepositoryLayout(t *testing.T) {
	dir := t.TempDir()
	o := Options{Domain: "nexo.local", Environments: []string{"develop", "qa", "staging", "prod"}}
	wrote, err := Write(dir, o)
	require.NoError(t, err)
	for _, p := range []string{
		"apps/nexo-fe/Chart.yaml", "apps/nexo-be/Chart.yaml", "apps/nexo-auth/Chart.yaml",
		"local/helm/postgres/Chart.yaml", "local/helm/redis/Chart.yaml",
		"apps/nexo-fe/values-local.yaml", "apps/nexo-be/values-prod.yaml", "apps/nexo-auth/values-local.yaml",
		".github/workflows/ci.yml", "README.md",
	} {
		assert.Contains(t, wrote, p)
		assert.FileExists(t, filepath.Join(dir, p))
	}

	ch, err := loader.LoadDir(filepath.Join(dir, "apps/nexo-be"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "apps/nexo-be/values-qa.yaml"))
	require.NoError(t, err)
	var vals map[string]any
	require.NoError(t, yaml.Unmarshal(b, &vals))
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "nexo-be-qa", Namespace: "nexo-qa"}, nil)
	require.NoError(t, err)
	out, err := engine.Render(ch, rv)
	require.NoError(t, err)
	manifests := strings.Join(mapValues(out), "\n")
	assert.Contains(t, manifests, "image: \"harbor.nexo.local/nexo/nexo-be:latest\"")
	assert.Contains(t, manifests, "host: qa.api.nexo.local")

	ci, err := os.ReadFile(filepath.Join(dir, ".github/workflows/ci.yml"))
	require.NoError(t, err)
	var wf map[string]any
	require.NoError(t, yaml.Unmarshal(ci, &wf), "the workflow is YAML")
	for _, want := range []string{"npm test", "docker push", "HARBOR_ROBOT_TOKEN", "docker login harbor.nexo.local", "apps/${{ matrix.app }}/values-local.yaml", "git push"} {
		assert.Contains(t, string(ci), want)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// A second run writes nothing; a file changed by the team is not replaced unless forced.
func TestWriteKeepsWhatTheTeamChanged(t *testing.T) {
	dir := t.TempDir()
	o := Options{Domain: "nexo.local", Environments: []string{"develop"}}
	_, err := Write(dir, o)
	require.NoError(t, err)
	wrote, err := Write(dir, o)
	require.NoError(t, err)
	assert.Empty(t, wrote)

	changed := filepath.Join(dir, "apps/nexo-fe/values-local.yaml")
	require.NoError(t, os.WriteFile(changed, []byte("replicaCount: 5\n"), 0o644))
	_, err = Write(dir, o)
	require.ErrorIs(t, err, ErrExists)
	assert.ErrorContains(t, err, "apps/nexo-fe/values-local.yaml")
	b, _ := os.ReadFile(changed)
	assert.Equal(t, "replicaCount: 5\n", string(b))

	o.Force = true
	wrote, err = Write(dir, o)
	require.NoError(t, err)
	assert.Equal(t, []string{"apps/nexo-fe/values-local.yaml"}, wrote)
}

func TestWriteNeedsADomainAndEnvironments(t *testing.T) {
	_, err := Write(t.TempDir(), Options{Environments: []string{"develop"}})
	assert.Error(t, err)
}
