package state

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nexolab/lab/core/sdk"
)

func TestRedactKeepsOnlyHashesOfSensitiveValues(t *testing.T) {
	schema := []sdk.Attribute{
		{Name: "url", Type: sdk.TypeString, Sensitive: true},
		{Name: "retention", Type: sdk.TypeString},
		{Name: "env", Type: sdk.TypeBlock, Nested: []sdk.Attribute{{Name: "password", Type: sdk.TypeString, Sensitive: true}, {Name: "size", Type: sdk.TypeNumber}}},
	}
	cfg := json.RawMessage(`{"url":"https://hook.example/s3cr3t","retention":"7d","env":{"prod":{"password":"p4ss","size":2}}}`)
	out, hashes := Redact(cfg, schema)
	assert.NotContains(t, string(out), "s3cr3t")
	assert.NotContains(t, string(out), "p4ss")
	assert.JSONEq(t, `{"retention":"7d","env":{"prod":{"size":2}}}`, string(out))
	assert.Len(t, hashes, 2)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, hashes["url"])
	assert.Contains(t, hashes, "env.prod.password")

	_, again := Redact(json.RawMessage(`{"url":"https://hook.example/other"}`), schema)
	assert.NotEqual(t, hashes["url"], again["url"], "a changed secret is still a change")

	plain := json.RawMessage(`{"retention":"7d"}`)
	out, hashes = Redact(plain, schema)
	assert.Equal(t, string(plain), string(out))
	assert.Nil(t, hashes)
}
