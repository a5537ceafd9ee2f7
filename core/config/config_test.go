package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/sdk"
)

func load(t *testing.T, src string, opts Options) (*Config, string) {
	p := filepath.Join(t.TempDir(), "lab.hcl")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	if opts.Env == nil {
		opts.Env = []string{}
	}
	c, diags := Load(p, opts)
	return c, Lines(diags)
}

var schema = []sdk.Attribute{
	{Name: "token", Type: sdk.TypeString, Required: true},
	{Name: "size", Type: sdk.TypeString, Default: "10Gi"},
	{Name: "labels", Type: sdk.TypeMapString},
	{Name: "extra", Type: sdk.TypeAny},
}

func TestDecodeStackFillsDefaultsAndChecksRequired(t *testing.T) {
	c, msgs := load(t, `lab "t" {}
stack "s" {
  token  = "abc"
  labels = { team = "platform" }
  extra  = { nested = [1, 2] }
}
stack "missing" {}
`, Options{})
	require.Empty(t, msgs)
	js, diags := c.DecodeStack(c.Stack("s"), schema)
	require.False(t, diags.HasErrors(), Lines(diags))
	assert.JSONEq(t, `{"token":"abc","size":"10Gi","labels":{"team":"platform"},"extra":{"nested":[1,2]}}`, string(js))

	_, diags = c.DecodeStack(c.Stack("missing"), schema)
	assert.Contains(t, Lines(diags), `lab.hcl:7:17: error: Missing required argument: The argument "token" is required, but no definition was found.`)
}

func TestPluginMayNotUseReservedNames(t *testing.T) {
	c, _ := load(t, "lab \"t\" {}\nstack \"s\" {}\n", Options{})
	_, diags := c.DecodeStack(c.Stack("s"), []sdk.Attribute{{Name: "timeout", Type: sdk.TypeString}})
	assert.Contains(t, Lines(diags), `declares attribute "timeout", a name lab reserves`)
}

func TestVariablesPrecedence(t *testing.T) {
	src := `variable "domain" {
  default = "default.local"
}
variable "nodes" {
  type    = number
  default = 1
}
lab "t" {
  domain = var.domain
}
`
	c, msgs := load(t, src, Options{})
	require.Empty(t, msgs)
	assert.Equal(t, "default.local", c.Lab.Domain)

	c, _ = load(t, src, Options{Env: []string{"LAB_VAR_domain=env.local"}})
	assert.Equal(t, "env.local", c.Lab.Domain)

	c, _ = load(t, src, Options{Env: []string{"LAB_VAR_domain=env.local"}, Vars: map[string]string{"domain": "flag.local"}})
	assert.Equal(t, "flag.local", c.Lab.Domain, "-var beats the environment")

	_, msgs = load(t, src, Options{Vars: map[string]string{"nodes": "many"}})
	assert.Contains(t, msgs, `lab.hcl:4:1: error: Invalid value for variable: -var nodes:`)
}

func TestDefaultsOfLabAndCluster(t *testing.T) {
	c, msgs := load(t, "lab \"nexo\" {}\n", Options{})
	require.Empty(t, msgs)
	assert.Equal(t, "nexo.local", c.Lab.Domain)
	home, _ := os.UserHomeDir()
	assert.Equal(t, filepath.Join(home, ".lab", "nexo", "data"), c.Lab.DataDir)
	assert.Equal(t, "k3d", c.Cluster.Provider, "k3d is the default cluster")
}

func TestDisabledAndChartOverrides(t *testing.T) {
	c, msgs := load(t, `lab "t" {}
stack "a" {
  enabled = false
}
stack "b" {
  timeout = "90s"
  chart "x" {
    repository = "oci://registry.example/charts"
    version    = "1.2.3"
    values     = { replicaCount = 2, image = { tag = "v1" } }
  }
}
`, Options{})
	require.Empty(t, msgs)
	require.Len(t, c.Enabled(), 1)
	b := c.Enabled()[0]
	assert.Equal(t, "b", b.Name)
	assert.Equal(t, 90.0, b.Timeout.Seconds())
	assert.Equal(t, sdk.ChartOverride{Repository: "oci://registry.example/charts", Version: "1.2.3",
		Values: map[string]any{"replicaCount": 2.0, "image": map[string]any{"tag": "v1"}}}, b.Charts["x"])
}
