package k3d

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/cluster"
)

// TestWithoutDocker drives every operation as a laptop user without a running Docker engine
// would: each fails fast with the one error that says where Docker was looked for, and
// nothing on the machine changes (no data_dir, no kubeconfig, data kept on purge).
func TestWithoutDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent.sock")
	p := testProvider(t)
	ctx := context.Background()
	want := "the Docker engine is not reachable at unix:///nonexistent.sock (from DOCKER_HOST). " +
		"Start Docker (Docker Desktop, colima or the docker service) or set DOCKER_HOST to a running engine"

	start := time.Now()
	_, err := p.Status(ctx)
	assertNoDocker(t, err, want)
	assertNoDocker(t, p.Create(ctx, cluster.CreateOptions{}), want)
	assertNoDocker(t, p.Start(ctx), want)
	assertNoDocker(t, p.Stop(ctx), want)
	_, err = p.Connect(ctx)
	assertNoDocker(t, err, want)
	_, err = p.Nodes(ctx)
	assertNoDocker(t, err, want)
	assert.Less(t, time.Since(start), 5*time.Second, "no waiting on an engine that is not there")

	assert.NoDirExists(t, p.cfg.DataDir, "create made nothing")
	assert.NoFileExists(t, p.KubeconfigPath())

	// A purge without Docker must not take the data while the cluster may still use it.
	require.NoError(t, os.MkdirAll(p.cfg.DataDir, 0o755))
	keep := filepath.Join(p.cfg.DataDir, "pvc-1", "data")
	require.NoError(t, os.MkdirAll(filepath.Dir(keep), 0o755))
	require.NoError(t, os.WriteFile(keep, []byte("x"), 0o644))
	assertNoDocker(t, p.Delete(ctx, cluster.DeleteOptions{PurgeData: true}), want)
	assert.FileExists(t, keep)
}

func assertNoDocker(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNoDocker)
	assert.Equal(t, want, err.Error())
}
