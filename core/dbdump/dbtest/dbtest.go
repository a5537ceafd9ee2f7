// Package dbtest starts real PostgreSQL and Redis servers for tests, from Debian's
// postgresql and redis-server packages (.ci/setup-databases.sh installs them), in
// temporary folders on free ports with generated passwords. A test whose server
// binaries are absent is skipped with the package to install.
//
// It does not import dbdump, so dbdump's own tests can use it.
package dbtest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
)

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePort(t testing.TB) int {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Secret returns a random password.
func Secret(t testing.TB) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// PostgresBin is the folder of initdb and pg_ctl: on PATH, or Debian's newest
// /usr/lib/postgresql/<major>/bin, which is not on PATH; "" when there is none.
func PostgresBin() string {
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

// Postgres is a running PostgreSQL server with scram-sha-256 password authentication,
// reached over TCP as the superuser postgres.
type Postgres struct {
	Host     string
	Port     int
	Password string
	Bin      string // the server's binaries; its client tools come first on PATH
}

// StartPostgres starts a server that stops when t ends, and puts the client tools of
// the server's version first on the test's PATH (Debian's /usr/bin ones are wrappers
// that may pick another version).
func StartPostgres(t testing.TB) Postgres {
	t.Helper()
	bin := PostgresBin()
	if bin == "" {
		t.Skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package (.ci/setup-databases.sh)")
	}
	// The server runs as the postgres user when the tests run as root (initdb refuses
	// root), so its folder is not t.TempDir (0700, root's).
	dir, err := os.MkdirTemp("", "dbtest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	password, port := Secret(t), freePort(t)
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
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return Postgres{Host: "127.0.0.1", Port: port, Password: password, Bin: bin}
}

// ownFolder gives dir and files to the postgres user when running as root and returns
// how to run commands as the folder's owner.
func ownFolder(t testing.TB, dir string, files ...string) func(name string, args ...string) *exec.Cmd {
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

func runOK(t testing.TB, c *exec.Cmd) {
	t.Helper()
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", c.String(), err, out)
	}
}

// Redis is a running redis-server with AOF on (fsync on every write) and a password.
type Redis struct {
	Addr     string // 127.0.0.1:<Port>
	Port     int
	Password string
	bin      string
	conf     string
	cmd      *exec.Cmd
}

// StartRedis starts a server on a free port that stops when t ends.
func StartRedis(t testing.TB) *Redis { return StartRedisOn(t, freePort(t)) }

// StartRedisOn starts a server on port that stops when t ends.
func StartRedisOn(t testing.TB, port int) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found: install Debian's redis-server package (.ci/setup-databases.sh)")
	}
	dir := t.TempDir()
	s := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, Password: Secret(t), bin: bin}
	// The password is in a 0600 config file, not on the server's command line.
	s.conf = filepath.Join(dir, "redis.conf")
	cfg := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nappendonly yes\nappendfsync always\nsave \"\"\nrequirepass %s\nlogfile %s\n",
		port, dir, s.Password, filepath.Join(dir, "log"))
	if err := os.WriteFile(s.conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its port and data folder and waits, at most 20s, until
// it answers an authenticated PING.
func (s *Redis) Start(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command(s.bin, s.conf)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := s.ping()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 20s: %v", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server; what it acknowledged is in its AOF already (appendfsync always).
func (s *Redis) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// ping sends AUTH and PING as inline commands and expects +OK and +PONG.
func (s *Redis) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "AUTH %s\r\nPING\r\n", s.Password); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for _, want := range []string{"+OK", "+PONG"} {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(line); got != want {
			return fmt.Errorf("redis answered %q, want %q", got, want)
		}
	}
	return nil
}
