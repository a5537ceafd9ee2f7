package nexoapps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/sdk"
)

// diagnostics validates a nexo-apps block the way `lab validate` does: lab's schema
// check, then the plugin's rules, placed at file:line:col.
func diagnostics(t *testing.T, block string) []string {
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.hcl")
	src := "lab \"nexo\" {\n  domain = \"nexo.local\"\n}\n\n" + block
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	c, diags := config.Load(path, config.Options{})
	require.False(t, diags.HasErrors(), "%s", config.Lines(diags))
	s := c.Stack("nexo-apps")
	require.NotNil(t, s)
	schema, err := sdk.SchemaOf(defaults())
	require.NoError(t, err)
	raw, diags := c.DecodeStack(s, schema)
	if diags.HasErrors() {
		return lines(diags)
	}
	cfg := defaults()
	require.NoError(t, sdk.DecodeConfig(raw, cfg))
	ds := New().Validate(context.Background(), &sdk.Request{Config: cfg})
	return lines(c.PluginDiagnostics(s, ds))
}

func lines(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		l := config.Line(d)
		out = append(out, l[strings.Index(l, "lab.hcl:"):])
	}
	return out
}

func TestInvalidInputsAnsweredAtTheirPosition(t *testing.T) {
	for _, tc := range []struct {
		name, block string
		want        []string
	}{
		{"unknown environment in a block", `stack "nexo-apps" {
  environments = ["develop", "qa"]
  environment "prod" {
    replicas = 3
  }
}
`, []string{`lab.hcl:7:15: error: Invalid value for "environment.prod": no environment "prod" in environments ([develop qa])`}},
		{"bad environment name", `stack "nexo-apps" {
  environments = ["develop", "QA", "develop"]
}
`, []string{
			`lab.hcl:6:30: error: Invalid value for "environments[1]": "QA" is not an environment name`,
			`lab.hcl:6:36: error: Invalid value for "environments[2]": "develop" is listed twice`}},
		{"resources below the requests", `stack "nexo-apps" {
  environment "develop" {
    cpu    = "100m"
    memory = "lots"
  }
}
`, []string{
			`lab.hcl:7:14: error: Invalid value for "environment.develop.cpu": 100m is below nexo-be's request of 200m`,
			`lab.hcl:8:14: error: Invalid value for "environment.develop.memory": "lots" is not a Kubernetes quantity`}},
		{"delivery outside its enum", `stack "nexo-apps" {
  delivery = "kubectl"
}
`, []string{`lab.hcl:6:14: error:`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diagnostics(t, tc.block)
			require.Len(t, got, len(tc.want), "%v", got)
			slices.Sort(got)
			for i, w := range tc.want {
				assert.True(t, strings.HasPrefix(got[i], w), "got %q\nwant %q...", got[i], w)
			}
		})
	}
	assert.Empty(t, diagnostics(t, "stack \"nexo-apps\" {\n  environment \"qa\" {\n    replicas = 1\n    cpu = \"500m\"\n  }\n}\n"))
}
