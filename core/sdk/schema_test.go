package sdk

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sample struct {
	Controller string            `hcl:"controller" enum:"nginx,traefik" doc:"which one" warn:"nginx=retired|traefik=fine"`
	Replicas   int               `hcl:"replicas" min:"1" max:"5"`
	Ratio      float64           `hcl:"ratio"`
	Token      string            `hcl:"token" required:"true" sensitive:"true"`
	Tags       []string          `hcl:"tags"`
	Labels     map[string]string `hcl:"labels"`
	Values     map[string]any    `hcl:"values"`
	Enabled    bool              `hcl:"enabled_feature"`
	internal   string
	Untagged   string
}

func TestSchemaFromStruct(t *testing.T) {
	attrs, err := SchemaOf(&sample{Controller: "nginx", Replicas: 1, Tags: []string{"a"}})
	require.NoError(t, err)
	byName := map[string]Attribute{}
	for _, a := range attrs {
		byName[a.Name] = a
	}
	require.Len(t, byName, 8, "only hcl-tagged exported fields")
	assert.Equal(t, Attribute{Name: "controller", Type: TypeString, Description: "which one", Default: "nginx",
		Enum: []string{"nginx", "traefik"}, Warnings: map[string]string{"nginx": "retired", "traefik": "fine"}}, byName["controller"])
	assert.Equal(t, TypeInteger, byName["replicas"].Type)
	assert.Equal(t, 1.0, *byName["replicas"].Min)
	assert.Equal(t, 5.0, *byName["replicas"].Max)
	assert.Equal(t, TypeNumber, byName["ratio"].Type)
	assert.True(t, byName["token"].Required)
	assert.True(t, byName["token"].Sensitive)
	assert.Nil(t, byName["token"].Default)
	assert.Equal(t, TypeListString, byName["tags"].Type)
	assert.Equal(t, []string{"a"}, byName["tags"].Default)
	assert.Equal(t, TypeMapString, byName["labels"].Type)
	assert.Equal(t, TypeAny, byName["values"].Type)
	assert.Equal(t, TypeBool, byName["enabled_feature"].Type)
	assert.Nil(t, byName["enabled_feature"].Default, "a zero default is no default")
}

func TestSchemaRejectsWhatHCLCannotSay(t *testing.T) {
	_, err := SchemaOf(sample{})
	assert.ErrorContains(t, err, "pointer to a struct")
	_, err = SchemaOf(&struct {
		C chan int `hcl:"c"`
	}{})
	assert.ErrorContains(t, err, "field C: unsupported type chan int")
	_, err = SchemaOf(&struct {
		W string `hcl:"w" warn:"no-equals-sign"`
	}{})
	assert.ErrorContains(t, err, "want value=message")
}

func TestDecodeConfigKeepsDefaults(t *testing.T) {
	cfg := &sample{Controller: "nginx", Replicas: 1}
	require.NoError(t, DecodeConfig([]byte(`{"replicas":3,"tags":["x"],"values":{"a":{"b":1}},"unknown":true}`), cfg))
	assert.Equal(t, "nginx", cfg.Controller, "absent keys keep the default")
	assert.Equal(t, 3, cfg.Replicas)
	assert.Equal(t, []string{"x"}, cfg.Tags)
	assert.Equal(t, map[string]any{"a": map[string]any{"b": 1.0}}, cfg.Values)
	assert.ErrorContains(t, DecodeConfig([]byte(`{"replicas":"three"}`), cfg), `config attribute "replicas"`)
}

func TestHealthStatusIsTheWorstCheck(t *testing.T) {
	h := &Health{}
	assert.Equal(t, Healthy, h.Status())
	h.Add("a", Skipped, "no container")
	assert.Equal(t, Healthy, h.Status(), "skipped checks never decide")
	h.Add("b", Degraded, "app %s out of sync", "x")
	h.Add("c", Healthy, "")
	assert.Equal(t, Degraded, h.Status())
	h.Add("d", Unhealthy, "")
	assert.Equal(t, Unhealthy, h.Status())
	assert.Equal(t, "app x out of sync", h.Checks[1].Message)
}

func TestDecodeConfigReplacesDefaultMaps(t *testing.T) {
	cfg := &sample{Labels: map[string]string{"default": "x", "kept": "y"}}
	require.NoError(t, DecodeConfig([]byte(`{"labels":{"kept":"z"}}`), cfg))
	assert.Equal(t, map[string]string{"kept": "z"}, cfg.Labels, "an entry the user left out is gone")
}
