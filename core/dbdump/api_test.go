package dbdump

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/kube/podexec"
)

// The PostgreSQL backup of nexo-apps and harbor, through the API server's exec: every
// pg_dump, pg_restore and psql of BackupAll and RestoreAll, and their data, go through
// kube-apiserver (see kwok_test.go).
func TestPostgresThroughAPIServerExec(t *testing.T) {
	c := apiCluster(t)
	s := startPostgres(t)
	ctx := context.Background()
	seed(t, s)
	want := snapshot(t, s)
	pg := s.Postgres
	pg.Exec = kwokStdin{apiPod(t, c, "postgres-0", "postgres")}

	dir := t.TempDir()
	require.NoError(t, pg.BackupAll(ctx, dir))
	s.sql(t, "postgres", `DROP DATABASE nexo; DROP DATABASE "app-db"; DROP ROLE app;`)
	require.NoError(t, pg.RestoreAll(ctx, dir))
	assert.Equal(t, want, snapshot(t, s))

	// A dump damaged after the backup is refused through the pod too, before any drop.
	s.sql(t, "nexo", `INSERT INTO public.users (name) VALUES ('kept')`)
	want = snapshot(t, s)
	bad := damaged(t, filepath.Join(dir, "nexo.dump"))["last 4 KiB cut"]
	assert.ErrorContains(t, pg.Restore(ctx, "nexo", bad), "checksum")
	assert.Equal(t, want, snapshot(t, s))
}

func TestPodExecThroughAPIServer(t *testing.T) {
	c := apiCluster(t)
	pod := apiPod(t, c, "postgres-0", "postgres")
	ctx := context.Background()

	// Binary stdin in, stdout back byte for byte, environment on stdin.
	data := bytes.Repeat([]byte("\x00\xff\r\nPGPASSWORD=x\n"), 50000)
	var out, errOut bytes.Buffer
	require.NoError(t, kwokStdin{pod}.Run(ctx, podexec.Command{
		Args: []string{"sh", "-c", `cat; printf '%s' "$SECRET" >&2`}, Env: map[string]string{"SECRET": "s3cr3t"},
		Stdin: bytes.NewReader(data), Stdout: &out, Stderr: &errOut,
	}))
	assert.Equal(t, len(data), out.Len())
	assert.True(t, bytes.Equal(data, out.Bytes()))
	assert.Equal(t, "s3cr3t", errOut.String())

	// A failing command: the pod, container and command, its exit status, its stderr.
	err := pod.Run(ctx, podexec.Command{Args: []string{"sh", "-c", "echo 'no such table' >&2; exit 7"}})
	var ee *podexec.ExitError
	require.ErrorAs(t, err, &ee)
	// A kubelet reports the code in its NonZeroExitCode status (ExitError.Code); kwok
	// wraps the process error into an internal error, so here only the text has it.
	assert.Contains(t, err.Error(), "exit status 7")
	assert.Contains(t, err.Error(), "pod nexo-local/postgres-0 container postgres: sh -c")
	assert.Contains(t, err.Error(), "no such table")

	// A pod that does not exist.
	gone := pod
	gone.Name = "postgres-9"
	err = gone.Run(ctx, podexec.Command{Args: []string{"true"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pod nexo-local/postgres-9")
	assert.Contains(t, err.Error(), "not found")

	// A command that hangs ends with the runner's timeout.
	slow := pod
	slow.Timeout = 500 * time.Millisecond
	err = slow.Run(ctx, podexec.Command{Args: []string{"sleep", "30"}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// The Redis backup of nexo-apps, through the API server's port-forward.
func TestRedisThroughAPIServerPortForward(t *testing.T) {
	c := apiCluster(t)
	s := startRedisOn(t, api.redisPort)
	ctx := context.Background()
	pod := apiPod(t, c, "redis-0", "redis")
	r := s.Redis
	r.Dial = func(ctx context.Context) (io.ReadWriteCloser, error) { return pod.Forward(ctx, 6379) }
	seedRedis(t, s)
	want := redisSnapshot(t, s)

	path := filepath.Join(t.TempDir(), "redis.dump")
	require.NoError(t, r.Backup(ctx, path))
	s.do(t, "FLUSHALL")
	s.doIn(t, 1, "SET", "written-after", "x")
	require.NoError(t, r.Restore(ctx, path))
	assert.Equal(t, want, redisSnapshot(t, s))

	// A port the pod does not serve: the kubelet's (kwok's) reason reaches the caller.
	conn, err := pod.Forward(ctx, 5555)
	require.NoError(t, err)
	defer conn.Close()
	conn.Write([]byte("PING\r\n"))
	_, err = conn.Read(make([]byte, 16))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "port-forward to pod nexo-local/redis-0 container redis port 5555")
}
