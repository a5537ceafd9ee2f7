package archive

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, dir, name, content string) {
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
}

func TestRoundTrip(t *testing.T) {
	src := t.TempDir()
	write(t, src, "argocd/applications.yaml", "kind: Application\n")
	write(t, src, "argocd/secrets/repo.yaml", "kind: Secret\n")
	dest := filepath.Join(t.TempDir(), "lab.tar.gz")
	m := Manifest{Lab: "nexo", Created: time.Now(), Stacks: []Stack{{Name: "argocd", PluginVersion: "0.1.0"}}}
	require.NoError(t, Write(dest, m, map[string]string{"argocd": filepath.Join(src, "argocd")}))

	st, err := os.Stat(dest)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a backup holds secrets")

	out := t.TempDir()
	got, err := Extract(dest, out)
	require.NoError(t, err)
	require.Len(t, got.Stack("argocd").Files, 2)
	b, err := os.ReadFile(filepath.Join(out, "argocd", "secrets", "repo.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "kind: Secret\n", string(b))
}

func TestDamagedArchiveIsRefused(t *testing.T) {
	src := t.TempDir()
	write(t, src, "s/data.txt", "original")
	dest := filepath.Join(t.TempDir(), "lab.tar.gz")
	require.NoError(t, Write(dest, Manifest{Stacks: []Stack{{Name: "s"}}}, map[string]string{"s": filepath.Join(src, "s")}))

	// Rewrite the archive with the same manifest but other content.
	extracted := t.TempDir()
	m, err := Extract(dest, extracted)
	require.NoError(t, err)
	write(t, extracted, "s/data.txt", "tampered")
	tampered := filepath.Join(t.TempDir(), "bad.tar.gz")
	f, err := os.Create(tampered)
	require.NoError(t, err)
	require.NoError(t, writeTar(f, *m, map[string]string{"s": filepath.Join(extracted, "s")}))
	require.NoError(t, f.Close())

	_, err = Extract(tampered, t.TempDir())
	assert.ErrorContains(t, err, "s/data.txt does not match its checksum")
}

func TestFailedWriteLeavesNoFile(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "lab.tar.gz")
	err := Write(dest, Manifest{Stacks: []Stack{{Name: "s"}}}, map[string]string{"s": "/nonexistent/folder"})
	require.Error(t, err)
	_, statErr := os.Stat(dest)
	assert.True(t, os.IsNotExist(statErr), "no half-written archive")
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".lab-backup-*"))
	assert.Empty(t, left, "no temporary file left")
}
