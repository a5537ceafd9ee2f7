package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesWholeWithMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "kubeconfig")
	require.NoError(t, Write(p, []byte("old"), 0o644))
	require.NoError(t, Write(p, []byte("new secret"), 0o600))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "new secret", string(b))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".kubeconfig.*"))
	assert.Empty(t, left, "no temporary file left")
}

func TestFailedWriteLeavesTargetAlone(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(p, []byte("keep"), 0o644))
	// A folder in the way of the rename makes the last step fail.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "blocked"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blocked", "x"), nil, 0o644))
	assert.Error(t, Write(filepath.Join(dir, "blocked"), []byte("data"), 0o644))
	b, _ := os.ReadFile(p)
	assert.Equal(t, "keep", string(b))
	left, _ := filepath.Glob(filepath.Join(dir, ".blocked.*"))
	assert.Empty(t, left)
}
