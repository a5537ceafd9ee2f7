package dbdump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// do runs one command on the test's own connection.
func (s *redisServer) do(t *testing.T, args ...string) any {
	t.Helper()
	c, err := s.conn()
	require.NoError(t, err)
	defer c.close()
	v, err := c.do(args...)
	require.NoError(t, err, "%v", args[0])
	return v
}

// seedRedis writes keys of every type, with and without expiry, in databases 0 and 3.
func seedRedis(t *testing.T, s *redisServer) {
	for _, cmd := range [][]string{
		{"SET", "plain", "value"},
		{"SET", "binary", "a\r\nb\x00c\xff"},
		{"SET", "session:1", "expires", "EX", "3600"},
		{"RPUSH", "queue", "one", "two", "three"},
		{"HSET", "user:1", "name", "Ana", "email", "ana@example.com"},
		{"SADD", "tags", "go", "k8s", "redis"},
		{"ZADD", "scores", "1.5", "ana", "2", "bo"},
		{"XADD", "events", "1-1", "kind", "login"},
		{"PEXPIRE", "user:1", "7200000"},
	} {
		s.doIn(t, 0, cmd...)
	}
	s.doIn(t, 3, "SET", "in-db-3", "yes")
	for i := 0; i < 600; i++ { // more than one SCAN page and one pipeline batch
		s.doIn(t, 3, "SET", fmt.Sprintf("bulk:%d", i), strings.Repeat("x", i))
	}
}

// doIn runs a command in database db.
func (s *redisServer) doIn(t *testing.T, db int, cmd ...string) {
	t.Helper()
	c, err := s.conn()
	require.NoError(t, err)
	defer c.close()
	_, err = c.do("SELECT", strconv.Itoa(db))
	require.NoError(t, err)
	_, err = c.do(cmd...)
	require.NoError(t, err, "%v", cmd)
}

// redisSnapshot lists, per database, every key with its type, absolute expiry and
// value as the type's own read command returns it (members sorted where unordered).
func redisSnapshot(t *testing.T, s *redisServer) string {
	t.Helper()
	c, err := s.conn()
	require.NoError(t, err)
	defer c.close()
	var lines []string
	for db := 0; db < 16; db++ {
		_, err := c.do("SELECT", strconv.Itoa(db))
		require.NoError(t, err)
		v, err := c.do("KEYS", "*")
		require.NoError(t, err)
		for _, k := range v.([]any) {
			key := string(k.([]byte))
			typ, _ := c.do("TYPE", key)
			at, _ := c.do("PEXPIRETIME", key)
			lines = append(lines, fmt.Sprintf("db%d %q %v %v %s", db, key, typ, at, value(t, c, typ, key)))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestRedisBackupRestore(t *testing.T) {
	s := startRedis(t)
	ctx := context.Background()
	seedRedis(t, s)
	want := redisSnapshot(t, s)
	require.Contains(t, want, `db0 "session:1" string 1`, "an expiry is part of the snapshot")

	path := filepath.Join(t.TempDir(), "redis.dump")
	require.NoError(t, s.Backup(ctx, path))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.NoError(t, VerifyRedis(path))

	// Wipe and write other data; the restore must leave exactly the backup.
	s.do(t, "FLUSHALL")
	s.doIn(t, 5, "SET", "written-after", "x")
	require.NoError(t, s.Restore(ctx, path))
	assert.Equal(t, want, redisSnapshot(t, s))
	assert.Equal(t, []byte("a\r\nb\x00c\xff"), s.do(t, "GET", "binary"))

	// AOF is on: the restored keys survive a restart of the server.
	s.stop()
	s.start(t)
	assert.Equal(t, want, redisSnapshot(t, s))
}

func TestRedisRefusesDamagedDumpBeforeWiping(t *testing.T) {
	s := startRedis(t)
	ctx := context.Background()
	seedRedis(t, s)
	good := filepath.Join(t.TempDir(), "redis.dump")
	require.NoError(t, s.Backup(ctx, good))
	s.doIn(t, 0, "SET", "added-after", "1")
	want := redisSnapshot(t, s)
	for name, p := range damaged(t, good) {
		err := s.Restore(ctx, p)
		require.Error(t, err, name)
		assert.Regexp(t, "checksum|not a LABREDIS1 dump", err.Error(), name)
		assert.Equal(t, want, redisSnapshot(t, s), "%s: the data must be untouched", name)
	}
	// Framing is checked too: a dump whose checksum file was rewritten after a cut.
	b, _ := os.ReadFile(good)
	cut := filepath.Join(t.TempDir(), "redis.dump")
	require.NoError(t, writeDump(cut, func(w io.Writer) error { _, err := w.Write(b[:len(b)-3]); return err }))
	assert.ErrorContains(t, s.Restore(ctx, cut), "cut short")
	assert.Equal(t, want, redisSnapshot(t, s))
}

func TestRedisServerRefusingPayloadWipesNothing(t *testing.T) {
	s := startRedis(t)
	ctx := context.Background()
	s.doIn(t, 0, "SET", "keep", "me")
	// A dump whose first payload the server rejects (as a newer Redis' would be).
	p := filepath.Join(t.TempDir(), "redis.dump")
	require.NoError(t, writeDump(p, func(w io.Writer) error {
		io.WriteString(w, redisMagic)
		if err := writeKey(w, 0, []byte("k"), -1, []byte("\x00\x01xnot-a-payload-of-this-server")); err != nil {
			return err
		}
		return writeRecord(w, recEnd, 1)
	}))
	require.NoError(t, VerifyRedis(p))
	err := s.Restore(ctx, p)
	require.ErrorContains(t, err, "the server does not accept this dump")
	assert.Equal(t, []byte("me"), s.do(t, "GET", "keep"))
	assert.Equal(t, int64(1), s.do(t, "DBSIZE"), "no probe key left behind")
}

func TestRedisWrongPassword(t *testing.T) {
	s := startRedis(t)
	r := s.Redis
	r.Password = "wrong-" + secret(t)
	err := r.Backup(context.Background(), filepath.Join(t.TempDir(), "redis.dump"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AUTH")
	assert.NotContains(t, err.Error(), r.Password)
}

// A server that accepts the connection and never answers must not hang a backup.
func TestRedisSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	r := Redis{Password: "x", Timeout: 300 * time.Millisecond, Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", l.Addr().String())
	}}
	dir := t.TempDir()
	err = r.Backup(context.Background(), filepath.Join(dir, "redis.dump"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	left, _ := os.ReadDir(dir)
	assert.Empty(t, left)
}

func value(t *testing.T, c *testConn, typ any, key string) string {
	read := map[string][]string{
		"string": {"GET", key},
		"list":   {"LRANGE", key, "0", "-1"},
		"hash":   {"HGETALL", key},
		"set":    {"SMEMBERS", key},
		"zset":   {"ZRANGE", key, "0", "-1", "WITHSCORES"},
		"stream": {"XRANGE", key, "-", "+"},
	}[fmt.Sprint(typ)]
	require.NotNil(t, read, "type %v", typ)
	v, err := c.do(read...)
	require.NoError(t, err)
	var parts []string
	var flat func(v any)
	flat = func(v any) {
		if a, ok := v.([]any); ok {
			for _, x := range a {
				flat(x)
			}
			return
		}
		parts = append(parts, fmt.Sprintf("%q", v))
	}
	flat(v)
	if typ == "hash" {
		var pairs []string
		for i := 0; i+1 < len(parts); i += 2 {
			pairs = append(pairs, parts[i]+"="+parts[i+1])
		}
		parts = pairs
	}
	if typ == "set" || typ == "hash" {
		sort.Strings(parts) // no order of their own
	}
	return strings.Join(parts, ",")
}
