package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), LockFileName)
	lf, diags := ReadLockFile(path)
	require.False(t, diags.HasErrors())
	_, ok := lf.Get("alpha")
	assert.False(t, ok, "a missing lock file is empty")
	lf.Set(Locked{Name: "beta", Version: "2.0.0", SHA256: "bb"})
	lf.Set(Locked{Name: "alpha", Version: "1.0.0", SHA256: "aa"})
	require.NoError(t, lf.Save())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Regexp(t, `(?s)^# .*plugin "alpha" \{\n  version = "1\.0\.0"\n  sha256  = "aa"\n\}\n\nplugin "beta"`, string(b))

	again, diags := ReadLockFile(path)
	require.False(t, diags.HasErrors())
	got, ok := again.Get("beta")
	assert.True(t, ok)
	assert.Equal(t, Locked{Name: "beta", Version: "2.0.0", SHA256: "bb"}, got)

	require.NoError(t, os.WriteFile(path, []byte("plugin \"x\" {\n  version = 1\n  sha = \"\"\n}\n"), 0o644))
	_, diags = ReadLockFile(path)
	require.True(t, diags.HasErrors())
	assert.Regexp(t, `lab\.lock\.hcl:\d+,\d+`, diags.Error(), "errors name file:line:col")
}

// A binary whose checksum differs from the lock file is refused before it starts, naming
// both checksums and how to accept it.
func TestLaunchRefusesBinaryThatDiffersFromTheLockFile(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, Prefix+"alpha")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+filepath.Join(dir, "started")+"\n"), 0o755))
	sum := fileSum(t, bin)
	lf, _ := ReadLockFile(filepath.Join(dir, LockFileName))
	lf.Set(Locked{Name: "alpha", Version: "1.0.0", SHA256: "0123abcd"})
	h := New(Options{Dirs: []string{dir}, LockFile: lf})

	_, err := h.Launch(context.Background(), "alpha")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused before it was started")
	assert.Contains(t, err.Error(), sum)
	assert.Contains(t, err.Error(), "0123abcd")
	assert.Contains(t, err.Error(), "lab plugins lock --upgrade")
	assert.NoFileExists(t, filepath.Join(dir, "started"), "the binary never ran")
}

// The file checked is the file that runs: a binary renamed over the plugin's path after
// the host opened and checked it never runs, the checked one does.
func TestLaunchRunsTheFileItChecked(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, Prefix+"alpha")
	script := func(mark string) []byte { return []byte("#!/bin/sh\ntouch " + filepath.Join(dir, mark) + "\n") }
	require.NoError(t, os.WriteFile(bin, script("checked-ran"), 0o755))
	f, err := os.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	swap := filepath.Join(dir, "swap")
	require.NoError(t, os.WriteFile(swap, script("swapped-ran"), 0o755))
	require.NoError(t, os.Rename(swap, bin))

	_, err = launch(context.Background(), "alpha", bin, f, fileSum(t, bin), "", hclog.NewNullLogger())
	require.Error(t, err, "a shell script is no plugin")
	assert.FileExists(t, filepath.Join(dir, "checked-ran"))
	assert.NoFileExists(t, filepath.Join(dir, "swapped-ran"), "the swapped binary never ran")
}

// A binary rewritten in place, with its size and modification time set back, is still
// read again: its change time moved.
func TestRewriteInPlaceIsNoticed(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, Prefix+"alpha")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho one\n"), 0o755))
	c := openCache("")
	first, err := c.lookup(bin)
	require.NoError(t, err)
	st, err := os.Stat(bin)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho two\n"), 0o755))
	require.NoError(t, os.Chtimes(bin, st.ModTime(), st.ModTime()))
	second, err := c.lookup(bin)
	require.NoError(t, err)
	assert.NotEqual(t, first.SHA256, second.SHA256)
	assert.Equal(t, fileSum(t, bin), second.SHA256)
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sum, err := checksum(f)
	require.NoError(t, err)
	return sum
}
