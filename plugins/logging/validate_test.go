package logging

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// Bad values are refused by `lab validate`, the real CLI with the real plugin, at the
// attribute's line and column, before anything runs.
func TestValidateNamesTheAttribute(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, testenv.Build(bin, "plugins/logging"))
	dir := t.TempDir()
	hcl := `lab "t" {
  domain = "t.local"
}

stack "logging" {
  elasticsearch_nodes = 0
  retention           = "a week"
  app_namespaces      = ["nexo-*", "Payments_EU", "shop-*"]
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lab"), "validate")
	cmd.Dir, cmd.Env = dir, testenv.Env(bin, filepath.Join(dir, ".cache"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Equal(t, 2, cmd.ProcessState.ExitCode(), "%s", out)
	got := string(out)
	assert.Contains(t, got, `lab.hcl:6:25: error: Invalid value for "elasticsearch_nodes": 0 is below the minimum of 1.`)

	// The schema's error comes first; the plugin's rules answer once it passes.
	hcl = strings.Replace(hcl, "elasticsearch_nodes = 0", "elasticsearch_nodes = 1", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o600))
	cmd = exec.CommandContext(ctx, filepath.Join(bin, "lab"), "validate")
	cmd.Dir, cmd.Env = dir, testenv.Env(bin, filepath.Join(dir, ".cache"))
	out, _ = cmd.CombinedOutput()
	assert.Equal(t, 2, cmd.ProcessState.ExitCode(), "%s", out)
	got = string(out)
	assert.Contains(t, got, `lab.hcl:7:25: error: Invalid value for "retention": "a week" is not a duration`)
	assert.Contains(t, got, `lab.hcl:8:36: error: Invalid value for "app_namespaces[1]": "Payments_EU" is not a namespace name`)
	assert.NotContains(t, got, `app_namespaces[2]`)
}

// The rules themselves, without the CLI.
func TestValidateRules(t *testing.T) {
	check := func(mod func(*Config)) sdk.Diagnostics {
		cfg := defaults()
		mod(cfg)
		return New().Validate(context.Background(), &sdk.Request{Config: cfg})
	}
	assert.Empty(t, check(func(*Config) {}))
	for _, ok := range []string{"7d", "36h", "90m", "3600s"} {
		assert.Empty(t, check(func(c *Config) { c.Retention = ok }), ok)
	}
	for _, bad := range []string{"", "7", "0d", "1w", "7 d", "-1d", "1.5d"} {
		d := check(func(c *Config) { c.Retention = bad })
		require.Len(t, d, 1, bad)
		assert.Equal(t, "retention", d[0].Attribute)
	}
	for _, ok := range []string{"nexo-*", "payments", "a", "team-1"} {
		assert.Empty(t, check(func(c *Config) { c.AppNamespaces = []string{ok} }), ok)
	}
	for _, bad := range []string{"Nexo", "nexo_*", "-x", "x-", "*", "a.b", strings.Repeat("a", 64)} {
		d := check(func(c *Config) { c.AppNamespaces = []string{"ok", bad} })
		require.Len(t, d, 1, bad)
		assert.Equal(t, "app_namespaces[1]", d[0].Attribute, bad)
	}
	assert.Equal(t, "app_namespaces", check(func(c *Config) { c.AppNamespaces = nil })[0].Attribute)
	assert.Equal(t, "storage_size", check(func(c *Config) { c.StorageSize = "512Mi" })[0].Attribute)
	assert.Equal(t, "snapshot_path", check(func(c *Config) { c.SnapshotPath = "snapshots" })[0].Attribute)
}
