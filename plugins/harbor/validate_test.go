package harbor

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// lab validate's path: lab.hcl decoded against the plugin's schema, the plugin process's
// Validate, and its diagnostics placed at the element of projects they are about.
func TestValidateAnswersABadProjectAtItsPosition(t *testing.T) {
	bin := testenv.BuildPlugin(t, "harbor")
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.hcl")
	require.NoError(t, os.WriteFile(path, []byte(`lab "nexo" { domain = "nexo.local" }
stack "harbor" {
  projects = ["nexo",
    "Nexo Apps"]
}
`), 0o600))
	cfg, diags := config.Load(path, config.Options{})
	require.False(t, diags.HasErrors(), config.Lines(diags))

	host := pluginhost.New(pluginhost.Options{Dirs: []string{filepath.Dir(bin)}})
	t.Cleanup(host.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := host.Launch(ctx, "harbor")
	require.NoError(t, err)
	schema, err := p.Client.Schema(ctx)
	require.NoError(t, err)
	st := cfg.Stack("harbor")
	js, diags := cfg.DecodeStack(st, schema)
	require.False(t, diags.HasErrors(), config.Lines(diags))
	d, err := p.Client.Validate(ctx, &sdk.Request{Stack: "harbor", ConfigJSON: js})
	require.NoError(t, err)
	got := config.Lines(cfg.PluginDiagnostics(st, d))
	assert.Contains(t, got, `lab.hcl:4:5: error: Invalid value for "projects[1]": "Nexo Apps" is not a valid Harbor project name`)
}
