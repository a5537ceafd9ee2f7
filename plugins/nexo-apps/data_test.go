package nexoapps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

// realmStore stands in for Keycloak's admin API (whose client is tested against a double
// of that API in package keycloak): it holds the realm's export.
type realmStore struct{ realm []byte }

func (r *realmStore) Export(_ context.Context, _ string) ([]byte, error) { return r.realm, nil }
func (r *realmStore) Import(_ context.Context, _ string, b []byte) error {
	r.realm = b
	return nil
}

// The users the default config provisions: each logs in to its own database only.
func TestProvisionMakesEachDatabaseWithItsOwnUser(t *testing.T) {
	ctx := context.Background()
	pg := startPostgres(t)
	users := map[string]string{}
	for _, db := range databases(defaults()) {
		users[db] = randomSecret(t)
	}
	require.Equal(t, []string{"nexo", "nexo_auth", "nexo_prod", "nexo_qa", "nexo_staging"}, databases(defaults()))
	require.NoError(t, provision(ctx, pg, users))
	require.NoError(t, provision(ctx, pg, users), "provisioning again changes nothing and does not fail")

	for db, pw := range users {
		got, err := psql(pg, db, pw, db, "SELECT current_user || '@' || current_database()")
		require.NoError(t, err, got)
		assert.Equal(t, db+"@"+db, got)
	}
	out, err := psql(pg, "nexo_qa", users["nexo_qa"], "nexo", "SELECT 1")
	assert.Error(t, err, "qa's user may not connect to develop's database")
	assert.Contains(t, out, "permission denied")
	_, err = psql(pg, "nexo", "wrong", "nexo", "SELECT 1")
	assert.Error(t, err)
}

// Data written, backed up, wiped, restored, equal; a truncated dump is refused before
// anything is wiped.
func TestBackupWipeRestore(t *testing.T) {
	ctx := context.Background()
	pg := startPostgres(t)
	rd := startRedis(t)
	users := map[string]string{"nexo": randomSecret(t), "nexo_auth": randomSecret(t), "nexo_qa": randomSecret(t)}
	require.NoError(t, provision(ctx, pg, users))
	sql := func(db, q string) string {
		out, err := psql(pg, db, users[db], db, q)
		require.NoError(t, err, out)
		return out
	}
	sql("nexo", "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'book'), (2, 'pen')")
	sql("nexo_auth", "CREATE TABLE realm (name text); INSERT INTO realm VALUES ('nexo')")
	rd.cli(t, "SET", "local:session:1", "alice")
	rd.cli(t, "RPUSH", "qa:queue", "a", "b", "c")
	realm := &realmStore{realm: []byte(`{"realm":"nexo","clients":[{"clientId":"nexo-fe"}]}`)}
	tg := &targets{Postgres: pg, Redis: rd.Redis, Realm: realm, Users: users}

	dir := t.TempDir()
	files, err := tg.backup(ctx, dir)
	require.NoError(t, err)
	for _, f := range []string{"postgres/nexo.dump", "postgres/nexo_auth.dump", "postgres/nexo_qa.dump", "postgres/roles.sql", "redis.dump", "realm.json"} {
		assert.Contains(t, files, f)
	}

	// Wiped: a table dropped, Redis flushed, the realm changed.
	sql("nexo", "DROP TABLE orders")
	rd.cli(t, "FLUSHALL")
	realm.realm = []byte(`{}`)

	_, err = tg.restore(ctx, dir)
	require.NoError(t, err)
	assert.Equal(t, "1|book\n2|pen", sql("nexo", "SELECT id, item FROM orders ORDER BY id"))
	assert.Equal(t, "nexo", sql("nexo_auth", "SELECT name FROM realm"), "the user logs in with its password after the restore")
	assert.Equal(t, "alice", rd.cli(t, "GET", "local:session:1"))
	assert.Equal(t, "a\nb\nc", rd.cli(t, "LRANGE", "qa:queue", "0", "-1"))
	assert.JSONEq(t, `{"realm":"nexo","clients":[{"clientId":"nexo-fe"}]}`, string(realm.realm))

	// A dump cut short: refused, and nothing was wiped.
	sql("nexo", "INSERT INTO orders VALUES (3, 'ink')")
	rd.cli(t, "SET", "after", "backup")
	dump := filepath.Join(dir, "postgres", "nexo.dump")
	b, err := os.ReadFile(dump)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dump, b[:len(b)/2], 0o600))
	_, err = tg.restore(ctx, dir)
	require.Error(t, err)
	assert.Equal(t, "3", sql("nexo", "SELECT count(*) FROM orders"))
	assert.Equal(t, "backup", rd.cli(t, "GET", "after"), "Redis is untouched when a PostgreSQL dump is refused")
}

// The chart's init script, which the official image runs at PostgreSQL's first start,
// makes the same databases and users from the mounted Secret's files.
func TestInitScriptMakesTheDatabases(t *testing.T) {
	pg := startPostgres(t)
	script, err := charts.FS.ReadFile("postgres/files/provision.sh")
	require.NoError(t, err)
	dir := t.TempDir()
	users := map[string]string{"nexo": randomSecret(t), "nexo_auth": randomSecret(t)}
	for u, p := range users {
		require.NoError(t, os.WriteFile(filepath.Join(dir, u), []byte(p), 0o600))
	}
	for range 2 { // a second run changes nothing and does not fail
		cmd := exec.Command("sh", "-c", string(script))
		cmd.Env = append(os.Environ(), "USERS_DIR="+dir, "POSTGRES_USER=postgres", "PGHOST="+pg.Host,
			"PGPORT="+strconv.Itoa(pg.Port), "PGPASSWORD="+pg.Password)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	for u, p := range users {
		got, err := psql(pg, u, p, u, "SELECT current_user")
		require.NoError(t, err, got)
		assert.Equal(t, u, got)
	}
	out, err := psql(pg, "nexo_auth", users["nexo_auth"], "nexo", "SELECT 1")
	assert.Error(t, err)
	assert.Contains(t, out, "permission denied")
}
