package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/sdk"
)

// envConfig is a plugin config with a labelled block, as a plugin author writes it.
type envConfig struct {
	Environments []string          `hcl:"environments"`
	Env          map[string]envSet `hcl:"environment,block" doc:"per environment settings"`
}

type envSet struct {
	Replicas int    `hcl:"replicas" min:"1" max:"9"`
	Tag      string `hcl:"tag"`
}

const envLab = `lab "t" {}
stack "apps" {
  environments = ["develop", "qa",
    "prod"]
  environment "qa" {
    replicas = 2
  }
  environment "stage" {
    tag = "v2"
  }
}
`

// Labelled blocks decode into the plugin's map of structs, checked against their own
// attributes' schema.
func TestLabelledBlocks(t *testing.T) {
	c, msgs := load(t, envLab, Options{})
	require.Empty(t, msgs)
	attrs, err := sdk.SchemaOf(&envConfig{})
	require.NoError(t, err)
	js, diags := c.DecodeStack(c.Stack("apps"), attrs)
	require.False(t, diags.HasErrors(), Lines(diags))

	var got envConfig
	require.NoError(t, sdk.DecodeConfig(js, &got))
	assert.Equal(t, map[string]envSet{"qa": {Replicas: 2}, "stage": {Tag: "v2"}}, got.Env)

	bad, _ := load(t, `lab "t" {}
stack "apps" {
  environment "qa" {
    replicas = 20
  }
  environment "qa" {}
}
`, Options{})
	_, diags = bad.DecodeStack(bad.Stack("apps"), attrs)
	lines := Lines(diags)
	assert.Contains(t, lines, `lab.hcl:4:16: error: Invalid value for "replicas": 20 is above the maximum of 9.`)
	assert.Contains(t, lines, `lab.hcl:6:15: error: Duplicate environment block`)
}

// A plugin's diagnostics land on what they name: a list element, an attribute inside a
// labelled block, the block's label, or the stack block when lab.hcl does not write it.
func TestPluginDiagnosticsPlacement(t *testing.T) {
	c, _ := load(t, envLab, Options{})
	attrs, err := sdk.SchemaOf(&envConfig{})
	require.NoError(t, err)
	s := c.Stack("apps")
	_, diags := c.DecodeStack(s, attrs)
	require.False(t, diags.HasErrors())

	var d sdk.Diagnostics
	d.Errorf(sdk.Index("environments", 2), "not allowed")
	d.Errorf("environment.stage", "stage is not in environments")
	d.Warnf("environment.qa.replicas", "two is few")
	d.Errorf("environment.qa.tag", "tag is required here")
	d.Errorf("", "whole block")
	got := Lines(c.PluginDiagnostics(s, d))
	assert.Contains(t, got, `lab.hcl:4:5: error: Invalid value for "environments[2]": not allowed`)
	assert.Contains(t, got, `lab.hcl:8:15: error: Invalid value for "environment.stage": stage is not in environments`)
	assert.Contains(t, got, `lab.hcl:6:16: warning: Invalid value for "environment.qa.replicas": two is few`)
	assert.Contains(t, got, `lab.hcl:5:15: error: Invalid value for "environment.qa.tag": tag is required here`, "an unwritten attribute goes to its block")
	assert.Contains(t, got, `lab.hcl:2:1: error: Invalid stack "apps": whole block`)
}
