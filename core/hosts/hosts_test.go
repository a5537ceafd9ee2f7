package hosts

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const system = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# a comment the user wrote\n10.0.0.5 nas.home\n"

func file(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "hosts")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func read(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func TestSyncAddsReplacesAndRemovesOnlyTheBlock(t *testing.T) {
	p := file(t, system)
	entries := []Entry{{"127.0.0.1", "grafana.nexo.local"}, {"127.0.0.1", "argocd.nexo.local"}}
	changed, err := Sync(p, "nexo", entries)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, system+Block("nexo", entries), read(t, p))
	assert.Contains(t, read(t, p), "127.0.0.1\targocd.nexo.local\n127.0.0.1\tgrafana.nexo.local\n", "sorted")

	changed, err = Sync(p, "nexo", entries)
	require.NoError(t, err)
	assert.False(t, changed, "the same entries change nothing")

	// The user adds a line after the block; a new sync keeps it.
	require.NoError(t, os.WriteFile(p, []byte(read(t, p)+"192.168.1.9 printer\n"), 0o644))
	_, err = Sync(p, "nexo", entries[:1])
	require.NoError(t, err)
	assert.Equal(t, system+Block("nexo", entries[:1])+"192.168.1.9 printer\n", read(t, p))

	got, found, err := Show(p, "nexo")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, entries[:1], got)

	changed, err = Remove(p, "nexo")
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, system+"192.168.1.9 printer\n", read(t, p))
}

func TestTwoLabsKeepTheirOwnBlocks(t *testing.T) {
	p := file(t, system)
	_, err := Sync(p, "nexo", []Entry{{"127.0.0.1", "a.nexo.local"}})
	require.NoError(t, err)
	_, err = Sync(p, "other", []Entry{{"127.0.0.1", "b.other.local"}})
	require.NoError(t, err)
	_, err = Remove(p, "nexo")
	require.NoError(t, err)
	assert.Equal(t, system+Block("other", []Entry{{"127.0.0.1", "b.other.local"}}), read(t, p))
}

func TestFileWithoutTrailingNewline(t *testing.T) {
	p := file(t, "127.0.0.1 localhost")
	_, err := Sync(p, "nexo", []Entry{{"127.0.0.1", "a.nexo.local"}})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1 localhost\n"+begin("nexo")+"\n"+joined+"\n127.0.0.1\ta.nexo.local\n"+end("nexo")+"\n", read(t, p))
	_, err = Remove(p, "nexo")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1 localhost", read(t, p), "the file's own bytes back")
}

func TestShowWithoutBlock(t *testing.T) {
	got, found, err := Show(file(t, system), "nexo")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Empty(t, got)
}

func TestBrokenBlockIsNotGuessed(t *testing.T) {
	broken := system + begin("nexo") + "\n127.0.0.1 a.nexo.local\n10.0.0.7 important.home\n"
	p := file(t, broken)
	_, err := Sync(p, "nexo", nil)
	assert.ErrorContains(t, err, "without")
	assert.Equal(t, broken, read(t, p), "the file is untouched")
}

func TestModeIsKept(t *testing.T) {
	p := file(t, system)
	require.NoError(t, os.Chmod(p, 0o640))
	_, err := Sync(p, "nexo", []Entry{{"127.0.0.1", "a.nexo.local"}})
	require.NoError(t, err)
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".hosts-lab-*"))
	assert.Empty(t, left)
}

func TestUnwritableFolderNamesTheFix(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere; the permission message needs an ordinary user")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(p, []byte(system), 0o644))
	require.NoError(t, os.Chmod(dir, 0o555))
	defer os.Chmod(dir, 0o755)
	_, err := Sync(p, "nexo", []Entry{{"127.0.0.1", "a.nexo.local"}})
	assert.ErrorContains(t, err, "run with sudo")
	assert.Equal(t, system, read(t, p))
}
