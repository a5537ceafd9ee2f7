package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
)

func TestRedactHCLMasksSensitiveValues(t *testing.T) {
	src := []byte(`variable "hook" {
  sensitive = true
  default   = "https://hooks.example/var-secret"
}
variable "plain" {
  default = "kept"
}
stack "monitoring" {
  retention         = "7d"
  alert_webhook_url = "https://hooks.example/literal-secret" # the team's channel
  environment "prod" {
    password = "nested-secret"
  }
}
`)
	stacks := []*Stack{{Name: "monitoring", Plugin: pluginhost.Description{Schema: []sdk.Attribute{
		{Name: "retention", Type: sdk.TypeString},
		{Name: "alert_webhook_url", Type: sdk.TypeString, Sensitive: true},
		{Name: "environment", Type: sdk.TypeBlock, Nested: []sdk.Attribute{{Name: "password", Sensitive: true}}},
	}}}}
	out := string(redactHCL(src, stacks))
	for _, secret := range []string{"var-secret", "literal-secret", "nested-secret"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, `retention         = "7d"`)
	assert.Contains(t, out, `default = "kept"`)
	assert.Contains(t, out, `alert_webhook_url = "(sensitive)"`)

	assert.Contains(t, string(redactHCL([]byte(`stack "x" { a = "secret`), stacks)), "left out")
}
