package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A path attribute is resolved against lab.hcl's folder, must exist, and its content is
// part of the stack's config: editing a file in it makes plan say upgrade.
func TestPathAttributes(t *testing.T) {
	l := newLab(t, header("paths.local")+"stack \"alpha\" {\n  files = \"dashboards\"\n}\n")
	t.Cleanup(func() { l.run("destroy", "--yes") })
	r := l.run("validate")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `lab.hcl:10:11: error: Invalid value for "files": stat `+filepath.Join(l.dir, "dashboards")+`: no such file or directory.`)

	dir := filepath.Join(l.dir, "dashboards")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"title":"a"}`), 0o644))
	l.ok("apply")
	assert.Regexp(t, `alpha\s+unchanged`, l.ok("plan").stdout)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"title":"b"}`), 0o644))
	assert.Regexp(t, `alpha\s+upgrade\s+1\s+config changed`, l.ok("plan").stdout)
}

// An env attribute names a variable the stack reads: a new value makes plan say upgrade,
// and the value itself is never stored.
func TestEnvAttributes(t *testing.T) {
	l := newLab(t, header("env.local")+"stack \"alpha\" {\n  token_env = \"ALPHA_TOKEN\"\n}\n")
	t.Cleanup(func() { l.run("destroy", "--yes") })
	base := l.env
	l.env = append(base, "ALPHA_TOKEN=first-secret")
	l.ok("apply")
	assert.Regexp(t, `alpha\s+unchanged`, l.ok("plan").stdout)
	l.env = append(base, "ALPHA_TOKEN=rotated-secret")
	assert.Regexp(t, `alpha\s+upgrade\s+1\s+config changed`, l.ok("plan").stdout)
	st := l.ok("status", "-o", "json")
	assert.NotContains(t, st.stdout, "secret")
}
