package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-plugin"
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
	sum, err := checksum(bin)
	require.NoError(t, err)
	lf, _ := ReadLockFile(filepath.Join(dir, LockFileName))
	lf.Set(Locked{Name: "alpha", Version: "1.0.0", SHA256: "0123abcd"})
	h := New(Options{Dirs: []string{dir}, LockFile: lf})

	_, err = h.Launch(context.Background(), "alpha")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused before it was started")
	assert.Contains(t, err.Error(), sum)
	assert.Contains(t, err.Error(), "0123abcd")
	assert.Contains(t, err.Error(), "lab plugins lock --upgrade")
	assert.NoFileExists(t, filepath.Join(dir, "started"), "the binary never ran")
}

// The checksum also goes to go-plugin's SecureConfig, so a binary swapped between the
// check and the start is refused as well.
func TestSwapBetweenCheckAndStartIsRefused(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, Prefix+"alpha")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+filepath.Join(dir, "started")+"\n"), 0o755))
	h := New(Options{Dirs: []string{dir}})
	secure, err := h.trusted("alpha", bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+filepath.Join(dir, "started")+" # swapped\n"), 0o755))

	_, err = launch(context.Background(), "alpha", bin, secure, h.log)
	require.ErrorIs(t, err, plugin.ErrChecksumsDoNotMatch)
	assert.Contains(t, err.Error(), "the binary changed after its checksum was checked")
	assert.NoFileExists(t, filepath.Join(dir, "started"), "the swapped binary never ran")
}
