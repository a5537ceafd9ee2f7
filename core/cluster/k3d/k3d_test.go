package k3d

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBounded(t *testing.T) {
	err := bounded(context.Background(), 20*time.Millisecond, "waiting", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	assert.EqualError(t, err, "waiting did not finish within 20ms")

	parent, cancel := context.WithCancel(context.Background())
	cancel()
	err = bounded(parent, time.Minute, "waiting", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	assert.ErrorIs(t, err, context.Canceled)

	boom := errors.New("boom")
	assert.Equal(t, boom, bounded(context.Background(), time.Minute, "x", func(context.Context) error { return boom }))
}

func TestPurgeData(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "pvc-1"), 0o755))
	require.NoError(t, purgeData(dir))
	assert.NoDirExists(t, dir)

	assert.ErrorContains(t, purgeData("/"), "refusing")
	assert.ErrorContains(t, purgeData(os.Getenv("HOME")), "refusing")
	assert.DirExists(t, os.Getenv("HOME"))
}

func TestHelperImagesPinned(t *testing.T) {
	assert.Equal(t, "5.8.3", libraryVersion())
}
