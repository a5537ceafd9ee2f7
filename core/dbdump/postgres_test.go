package dbdump

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seed makes two databases: "nexo" with two schemas, a sequence and a large object, and
// "app-db" owned by a role of its own.
func seed(t *testing.T, s *pgServer) {
	s.sql(t, "postgres", `CREATE ROLE app LOGIN; CREATE DATABASE nexo; CREATE DATABASE "app-db" OWNER app;`)
	s.sql(t, "nexo", `
		CREATE SCHEMA billing;
		CREATE TABLE public.users (id serial PRIMARY KEY, name text NOT NULL, born date);
		CREATE TABLE billing.invoices (id bigint PRIMARY KEY, user_id int REFERENCES public.users, total numeric(10,2), note text);
		INSERT INTO public.users (name, born) SELECT 'user ' || i, date '2000-01-01' + i FROM generate_series(1, 500) i;
		INSERT INTO billing.invoices SELECT i, 1 + i % 500, i * 1.25, E'line\ttab ' || i FROM generate_series(1, 2000) i;
		SELECT lo_from_bytea(424242, convert_to(repeat('large object ', 1000), 'UTF8'));`)
	s.sql(t, "app-db", `SET ROLE app; CREATE TABLE items (k text PRIMARY KEY, v jsonb); INSERT INTO items VALUES ('a', '{"x": 1}'), ('b', '[1, 2]');`)
}

// snapshot is what a user would look at: rows, the large object, owners, the sequence.
func snapshot(t *testing.T, s *pgServer) string {
	return strings.Join([]string{
		s.sql(t, "nexo", `SELECT id, name, born FROM public.users ORDER BY id;
			SELECT * FROM billing.invoices ORDER BY id;
			SELECT md5(lo_get(424242));
			SELECT last_value, is_called FROM public.users_id_seq;`),
		s.sql(t, "app-db", `SELECT k, v, pg_get_userbyid(relowner) FROM items, pg_class WHERE relname = 'items' ORDER BY k;
			SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database();`),
	}, "\n")
}

func TestPostgresBackupAllRestoreAll(t *testing.T) {
	s := startPostgres(t)
	ctx := context.Background()
	seed(t, s)
	want := snapshot(t, s)

	dir := t.TempDir()
	// A dump left by an earlier backup, of a database that no longer exists.
	require.NoError(t, writeDump(filepath.Join(dir, "dropped.dump"), func(w io.Writer) error { _, err := io.WriteString(w, pgMagic); return err }))
	require.NoError(t, s.BackupAll(ctx, dir))
	assert.NoFileExists(t, filepath.Join(dir, "dropped.dump"))
	assert.NoFileExists(t, filepath.Join(dir, "dropped.dump"+SumSuffix))
	for _, name := range []string{"nexo.dump", "app-db.dump", "postgres.dump", RolesFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), name)
		require.NoError(t, verifyFile(filepath.Join(dir, name), map[bool]string{true: "--", false: pgMagic}[name == RolesFile]))
	}

	// Wipe: the databases and the role are gone, another database appears.
	s.sql(t, "postgres", `DROP DATABASE nexo; DROP DATABASE "app-db"; DROP ROLE app; CREATE DATABASE later;`)
	require.NoError(t, s.RestoreAll(ctx, dir))
	assert.Equal(t, want, snapshot(t, s))
	assert.Contains(t, s.sql(t, "postgres", `SELECT datname FROM pg_database ORDER BY 1`), "later",
		"a database the backup does not hold is left alone")
}

// damaged writes copies of a dump, with the original's checksum file, cut or changed.
func damaged(t *testing.T, src string) map[string]string {
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	sum, err := os.ReadFile(src + SumSuffix)
	require.NoError(t, err)
	flipped := append([]byte(nil), b...)
	flipped[len(b)*2/3] ^= 0x01
	variants := map[string][]byte{
		"cut in half":      b[:len(b)/2],
		"last byte cut":    b[:len(b)-1],
		"last 4 KiB cut":   b[:len(b)-4096],
		"one bit flipped":  flipped,
		"empty":            nil,
		"no checksum file": b,
	}
	out := map[string]string{}
	for name, data := range variants {
		dir := t.TempDir()
		p := filepath.Join(dir, filepath.Base(src))
		require.NoError(t, os.WriteFile(p, data, 0o600))
		if name != "no checksum file" {
			require.NoError(t, os.WriteFile(p+SumSuffix, sum, 0o600))
		}
		out[name] = p
	}
	return out
}

func TestPostgresRefusesDamagedDumpBeforeDropping(t *testing.T) {
	s := startPostgres(t)
	ctx := context.Background()
	seed(t, s)
	good := filepath.Join(t.TempDir(), "nexo.dump")
	require.NoError(t, s.Backup(ctx, "nexo", good))
	st, err := os.Stat(good)
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(3*4096), "the dump must be larger than the cuts")
	s.sql(t, "nexo", `INSERT INTO public.users (name) VALUES ('added after the backup')`)
	want := snapshot(t, s)

	for name, p := range damaged(t, good) {
		err := s.Restore(ctx, "nexo", p)
		require.Error(t, err, name)
		assert.Regexp(t, "checksum|not a PGDMP dump", err.Error(), name)
		assert.Equal(t, want, snapshot(t, s), "%s: the database must be untouched", name)
	}
	// A whole dump of another database is refused too.
	other := filepath.Join(t.TempDir(), "app-db.dump")
	require.NoError(t, s.Backup(ctx, "app-db", other))
	assert.ErrorContains(t, s.Restore(ctx, "nexo", other), `holds database "app-db", not "nexo"`)
	assert.Equal(t, want, snapshot(t, s))

	// The good dump restores: the row added after the backup is gone.
	require.NoError(t, s.Restore(ctx, "nexo", good))
	assert.NotContains(t, s.sql(t, "nexo", `SELECT name FROM public.users`), "added after the backup")
}

func TestPostgresFailedDumpLeavesNoFile(t *testing.T) {
	s := startPostgres(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "missing.dump")
	err := s.Backup(context.Background(), "missing", p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pg_dump")
	assert.Contains(t, err.Error(), `database "missing" does not exist`)
	assert.NotContains(t, err.Error(), s.Password)
	left, _ := os.ReadDir(dir)
	assert.Empty(t, left, "no dump, no checksum, no temporary file")
}

func TestFileNamesRoundTrip(t *testing.T) {
	for _, db := range []string{"nexo", "app-db", "..", "a/b", "Ünïcode db", "x.dump"} {
		name := fileName(db)
		assert.NotContains(t, name, "/")
		assert.NotContains(t, name, ".")
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+DumpSuffix), nil, 0o600))
		got, err := dumpsIn(dir)
		require.NoError(t, err)
		assert.Equal(t, []string{db}, got)
	}
}
