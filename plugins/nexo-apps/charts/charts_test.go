package charts

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/nexolab/lab/core/helm/chartkeys"
)

// Every chart passes what `helm lint` checks (Helm's own linter, strict: warnings fail),
// with its defaults and with the values an environment gives it.
func TestChartsPassHelmLint(t *testing.T) {
	dir, err := Dir(t.TempDir())
	require.NoError(t, err)
	site := Site{Domain: "nexo.local", Registry: "harbor.nexo.local/nexo"}
	envs := []Env{NewEnv("develop", "1.0.0"), NewEnv("qa", "1.0.0")}
	values := map[string]map[string]any{
		"nexo-fe": site.FEValues(envs[1]), "nexo-be": site.BEValues(envs[1]),
		"nexo-auth": site.AuthValues(envs, []any{"login/theme.properties"}),
		"postgres":  PostgresValues("local-path", "5Gi"), "redis": RedisValues("local-path", "1Gi"),
	}
	for _, name := range Names {
		for _, v := range []map[string]any{nil, values[name]} {
			l := lint.All(dir+"/"+name, v, "nexo-qa", false)
			for _, m := range l.Messages {
				assert.Less(t, m.Severity, support.WarningSev, "%s: %s", name, m.Error())
			}
		}
	}
}

// Every key the values set is one the chart's values.yaml documents.
func TestValuesUseOnlyChartKeys(t *testing.T) {
	site := Site{Domain: "nexo.local", Registry: "r/nexo"}
	e := NewEnv("develop", "1")
	values := map[string]map[string]any{
		"nexo-fe": site.FEValues(e), "nexo-be": site.BEValues(e),
		"nexo-auth": site.AuthValues([]Env{e}, []any{"login/theme.properties"}),
		"postgres":  PostgresValues("local-path", "5Gi"), "redis": RedisValues("local-path", "1Gi"),
	}
	for name, v := range values {
		src, err := FS.ReadFile(name + "/values.yaml")
		require.NoError(t, err)
		keys, err := chartkeys.Extract(src, nil)
		require.NoError(t, err)
		documented := map[string]bool{}
		for _, k := range keys {
			documented[k] = true
		}
		for _, k := range paths("", v) {
			assert.True(t, documented[k], "%s: %s is not in values.yaml", name, k)
		}
	}
}

// paths are the dotted key paths of values down to leaves, lists and resources blocks.
func paths(prefix string, m map[string]any) []string {
	var out []string
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && k != "resources" && k != "env" {
			out = append(out, paths(p, sub)...)
			continue
		}
		out = append(out, p)
	}
	return out
}
