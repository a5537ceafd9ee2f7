package harbor

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/dbdump"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/kube/podexec"
	"github.com/nexolab/lab/core/sdk"
)

// recorder stands in for a pod's exec: it records each command and answers pg_dump and
// tar with fixed bytes. The dump and restore themselves are core/dbdump's, proven against
// a real PostgreSQL there; this checks what the harbor stack picks and writes.
type recorder struct {
	mu    sync.Mutex
	calls []podexec.Command
	stdin []string
	out   map[string]string // command name => what it prints
}

func (r *recorder) Run(_ context.Context, cmd podexec.Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := ""
	if cmd.Stdin != nil {
		b, _ := io.ReadAll(cmd.Stdin)
		in = string(b)
	}
	r.calls, r.stdin = append(r.calls, cmd), append(r.stdin, in)
	if cmd.Stdout != nil {
		_, _ = io.WriteString(cmd.Stdout, r.out[cmd.Args[0]])
	}
	return nil
}

// The database is Harbor's core database "registry" of the chart's database pod, as the
// superuser postgres with the generated password.
func TestBackupPicksHarborsDatabase(t *testing.T) {
	ctx := t.Context()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	cfg := defaults()
	cfg.Namespace = "harbor-backup-pick"
	require.NoError(t, c.EnsureNamespace(ctx, cfg.Namespace, nil))
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), cfg.Namespace) })
	s := &session{Req: &sdk.Request{Cluster: cluster.Conn, Config: cfg}, Config: cfg, Kube: c, Values: map[string]any{}}
	require.NoError(t, prepare(ctx, s))

	pg, err := postgres(ctx, s)
	require.NoError(t, err)
	pod, ok := pg.Exec.(podexec.Pod)
	require.True(t, ok, "the dump runs in a pod")
	assert.Equal(t, cfg.Namespace, pod.Namespace)
	assert.Equal(t, "harbor-database-0", pod.Name, "the chart's StatefulSet harbor-database")
	assert.Equal(t, "database", pod.Container, "the chart's container name")
	assert.Equal(t, "postgres", pg.User)
	assert.Equal(t, s.Values[keyDatabase], pg.Password, "the generated password")
	assert.Len(t, pg.Password, 24)
}

// The files a backup writes: the dump with its checksum, and the registry's storage
// only with backup_registry.
func TestBackupDataWritesTheDumpAndOptionallyTheBlobs(t *testing.T) {
	ctx := t.Context()
	db := &recorder{out: map[string]string{"pg_dump": "PGDMP fake dump of registry"}}
	reg := &recorder{out: map[string]string{"tar": "fake tar of /storage"}}
	pg := dbdump.Postgres{Exec: db, User: "postgres", Password: "generated-password"}
	registry := func() (podexec.Runner, error) { return reg, nil }

	dir := t.TempDir()
	files, summary, err := backupData(ctx, pg, false, registry, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"database/registry.dump", "database/registry.dump.sha256"}, files)
	assert.Contains(t, summary, "backup_registry = true")
	assert.Empty(t, reg.calls, "no registry blobs unless asked")
	require.Len(t, db.calls, 1)
	assert.Equal(t, "pg_dump", db.calls[0].Args[0])
	assert.Equal(t, "registry", db.calls[0].Env["PGDATABASE"])
	assert.Equal(t, "generated-password", db.calls[0].Env["PGPASSWORD"])
	require.NoError(t, dbdump.Verify(filepath.Join(dir, "database/registry.dump")), "the dump and its checksum agree")

	dir = t.TempDir()
	files, _, err = backupData(ctx, pg, true, registry, dir)
	require.NoError(t, err)
	assert.Contains(t, files, "registry/storage.tar")
	b, err := os.ReadFile(filepath.Join(dir, "registry/storage.tar"))
	require.NoError(t, err)
	assert.Equal(t, "fake tar of /storage", string(b))
	fi, err := os.Stat(filepath.Join(dir, "registry/storage.tar"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, []string{"tar", "-C", "/storage", "-cf", "-", "."}, reg.calls[0].Args)
}

// After a restore the superuser gets the restored Secret's password, sent on stdin.
func TestRestoreSetsThePasswordOfTheRestoredSecret(t *testing.T) {
	db := &recorder{}
	require.NoError(t, setSuperuserPassword(t.Context(), dbdump.Postgres{Exec: db, Password: "it's-restored"}))
	require.Len(t, db.calls, 1)
	assert.Equal(t, "psql", db.calls[0].Args[0])
	assert.NotContains(t, strings.Join(db.calls[0].Args, " "), "restored", "the password is not in the command line")
	assert.Equal(t, "ALTER ROLE postgres WITH PASSWORD 'it''s-restored';\n", db.stdin[0])
}
