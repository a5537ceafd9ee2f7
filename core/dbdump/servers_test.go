package dbdump

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexolab/lab/core/kube/podexec"
)

// The tests run real servers from Debian's postgresql and redis-server packages
// (.ci/setup-databases.sh installs them) in temporary folders on free ports.

func freePort(t *testing.T) int {
	t.Helper()
	p, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func secret(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// pgBinDir is the folder of initdb and pg_ctl: on PATH, or Debian's newest
// /usr/lib/postgresql/<major>/bin, which is not on PATH.
func pgBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func major(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// pgServer is a running PostgreSQL server with password authentication; Postgres
// reaches it over TCP with the client tools of the same version.
type pgServer struct {
	Postgres
	bin string
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		t.Skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package (.ci/setup-databases.sh)")
	}
	// The server runs as the postgres user when the tests run as root (initdb refuses
	// root), so its folder is not t.TempDir (0700, root's).
	dir, err := os.MkdirTemp("", "dbdump-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	password, port := secret(t), freePort(t)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asOwner := ownFolder(t, dir, pwfile)
	data := filepath.Join(dir, "data")
	runOK(t, asOwner(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=scram-sha-256",
		"--pwfile="+pwfile, "-E", "UTF8", "--locale=C.UTF-8"))
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	runOK(t, asOwner(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"))
	t.Cleanup(func() {
		_ = asOwner(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-t", "30", "stop").Run()
	})
	// The client tools of the server's version come first on PATH (Debian's /usr/bin
	// ones are wrappers that may pick another version).
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return &pgServer{
		Postgres: Postgres{Exec: podexec.Local{Timeout: 2 * time.Minute}, Password: password, Host: "127.0.0.1", Port: port},
		bin:      bin,
	}
}

// ownFolder gives dir and files to the postgres user when running as root and returns
// how to run commands as the folder's owner.
func ownFolder(t *testing.T, dir string, files ...string) func(name string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("running as root and no postgres user to run the server as: install Debian's postgresql package")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range append([]string{dir}, files...) {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return func(name string, args ...string) *exec.Cmd {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
}

func runOK(t *testing.T, c *exec.Cmd) {
	t.Helper()
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", c.String(), err, out)
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

// redisServer is a running redis-server with AOF on and a generated password.
type redisServer struct {
	Redis
	bin, conf string
	addr      string
	cmd       *exec.Cmd
}

func startRedis(t *testing.T) *redisServer { return startRedisOn(t, freePort(t)) }

func startRedisOn(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found: install Debian's redis-server package (.ci/setup-databases.sh)")
	}
	dir := t.TempDir()
	password := secret(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// The password is in a 0600 config file, not on the server's command line.
	conf := filepath.Join(dir, "redis.conf")
	cfg := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nappendonly yes\nappendfsync always\nsave \"\"\nrequirepass %s\nlogfile %s\n",
		port, dir, password, filepath.Join(dir, "log"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{bin: bin, conf: conf, addr: addr}
	s.Redis = Redis{Password: password, Timeout: time.Minute, Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.bin, s.conf)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := s.conn()
		if err == nil {
			_, err = c.do("PING")
			c.close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 20s: %v", s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *redisServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

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
