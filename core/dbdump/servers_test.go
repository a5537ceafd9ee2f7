package dbdump

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nexolab/lab/core/dbdump/dbtest"
	"github.com/nexolab/lab/core/kube/podexec"
)

// The tests run real servers (package dbtest) and reach them as a pod's commands would:
// Postgres through podexec.Local with the client tools of the server's version, Redis
// over TCP.

func secret(t *testing.T) string { return dbtest.Secret(t) }

// pgServer is a running PostgreSQL server and a Postgres that reaches it.
type pgServer struct {
	Postgres
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	s := dbtest.StartPostgres(t)
	return &pgServer{
		Postgres: Postgres{Exec: podexec.Local{Timeout: 2 * time.Minute}, Password: s.Password, Host: s.Host, Port: s.Port},
	}
}

// sql runs statements in db and returns what psql printed (unaligned, tuples only).
func (s *pgServer) sql(t *testing.T, db, statements string) string {
	t.Helper()
	out, err := s.query(db, statements)
	if err != nil {
		t.Fatalf("psql %s: %v", db, err)
	}
	return out
}

func (s *pgServer) query(db, statements string) (string, error) {
	var out strings.Builder
	err := s.run(context.Background(), db, []string{"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"},
		strings.NewReader(statements), &out, nil)
	return out.String(), err
}

// redisServer is a running redis-server and a Redis that reaches it.
type redisServer struct {
	Redis
	srv *dbtest.Redis
}

func startRedis(t *testing.T) *redisServer { return newRedis(dbtest.StartRedis(t)) }

func startRedisOn(t *testing.T, port int) *redisServer { return newRedis(dbtest.StartRedisOn(t, port)) }

func newRedis(srv *dbtest.Redis) *redisServer {
	r := Redis{Password: srv.Password, Timeout: time.Minute, Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Addr)
	}}
	return &redisServer{Redis: r, srv: srv}
}

func (s *redisServer) start(t *testing.T) { s.srv.Start(t) }
func (s *redisServer) stop()              { s.srv.Stop() }

// testConn is a direct, authenticated connection for the tests' own reads and writes.
type testConn struct {
	*resp
	close func()
}

func (s *redisServer) conn() (*testConn, error) {
	c, done, err := s.session(context.Background())
	if err != nil {
		return nil, err
	}
	return &testConn{c, done}, nil
}
