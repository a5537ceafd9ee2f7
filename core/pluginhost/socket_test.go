package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A plugin is told to put its socket in a folder only this user can enter, whatever the
// umask, and the host removes the folder when it closes.
func TestPluginSocketFolderIsPrivate(t *testing.T) {
	if !privateSocket {
		t.Skip("plugins listen on TCP with mutual TLS here")
	}
	dir := t.TempDir()
	seen := filepath.Join(dir, "seen")
	script := "#!/bin/sh\numask 000\nstat -c '%a %n' \"$PLUGIN_UNIX_SOCKET_DIR\" > " + seen + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, Prefix+"alpha"), []byte(script), 0o755))
	h := New(Options{Dirs: []string{dir}})

	_, err := h.Launch(context.Background(), "alpha")
	require.Error(t, err, "a shell script is no plugin")
	b, err := os.ReadFile(seen)
	require.NoError(t, err)
	mode, folder, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	assert.Equal(t, "700", mode, "the socket folder %s", folder)
	h.Close()
	assert.NoDirExists(t, folder, "the host removes the socket folder when it closes")
}
