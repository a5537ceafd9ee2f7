package nexoapps

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexolab/lab/core/dbdump"
	"github.com/nexolab/lab/core/dbdump/dbtest"
	"github.com/nexolab/lab/core/kube/podexec"
)

// Real PostgreSQL and Redis servers on this machine (Debian's postgresql and
// redis-server packages), for the data paths: what runs in the pods on a real lab runs
// here against them, through podexec.Local and a TCP dial instead of the API server.

func randomSecret(t *testing.T) string { return dbtest.Secret(t) }

// startPostgres runs a server with password authentication and returns how the
// superuser reaches it.
func startPostgres(t *testing.T) dbdump.Postgres {
	s := dbtest.StartPostgres(t)
	return dbdump.Postgres{Exec: podexec.Local{Timeout: 2 * time.Minute}, Password: s.Password, Host: s.Host, Port: s.Port}
}

// psql runs statements as user (with password) in db and returns the rows.
func psql(pg dbdump.Postgres, user, password, db, sql string) (string, error) {
	c := exec.Command("psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", user, "-d", db, "-c", sql)
	c.Env = append(os.Environ(), "PGPASSWORD="+password)
	out, err := c.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

type redisServer struct {
	dbdump.Redis
	port int
}

func startRedis(t *testing.T) redisServer {
	s := dbtest.StartRedis(t)
	return redisServer{port: s.Port, Redis: dbdump.Redis{Password: s.Password, Timeout: time.Minute,
		Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", s.Addr)
		}}}
}

// cli runs a redis-cli command against the server.
func (r redisServer) cli(t *testing.T, args ...string) string {
	t.Helper()
	c := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(r.port), "--no-auth-warning"}, args...)...)
	c.Env = append(os.Environ(), "REDISCLI_AUTH="+r.Password)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}
