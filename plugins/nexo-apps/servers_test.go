package main

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

	"github.com/nexolab/lab/core/dbdump"
	"github.com/nexolab/lab/core/kube/podexec"
)

// Real PostgreSQL and Redis servers on this machine (Debian's postgresql and
// redis-server packages), for the data paths: what runs in the pods on a real lab runs
// here against them, through podexec.Local and a TCP dial instead of the API server.

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomSecret(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func pgBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

// startPostgres runs a server with password authentication and returns how the
// superuser reaches it.
func startPostgres(t *testing.T) dbdump.Postgres {
	bin := pgBin()
	if bin == "" {
		t.Skip("PostgreSQL server binaries not found: install Debian's postgresql package")
	}
	dir, err := os.MkdirTemp("", "nexo-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	password, port := randomSecret(t), freePort(t)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := exec.Command
	if os.Geteuid() == 0 { // initdb refuses root: the server runs as postgres
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("no postgres user to run the server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	mustRun(t, run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--locale=C.UTF-8"))
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	mustRun(t, run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"))
	t.Cleanup(func() { _ = run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-t", "30", "stop").Run() })
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dbdump.Postgres{Exec: podexec.Local{Timeout: 2 * time.Minute}, Password: password, Host: "127.0.0.1", Port: port}
}

func mustRun(t *testing.T, c *exec.Cmd) {
	t.Helper()
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", c, err, out)
	}
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
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found: install Debian's redis-server package")
	}
	dir := t.TempDir()
	password, port := randomSecret(t), freePort(t)
	conf := filepath.Join(dir, "redis.conf")
	cfg := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nappendonly yes\nsave \"\"\nrequirepass %s\n", port, dir, password)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	r := redisServer{port: port, Redis: dbdump.Redis{Password: password, Timeout: time.Minute,
		Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}}}
	deadline := time.Now().Add(20 * time.Second)
	for ping(context.Background(), r.Redis) != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
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
