package dbdump

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Redis backs up and restores every key of every database of one Redis server (7 or
// later) over its own protocol: each key's DUMP payload (type, value and the server's
// CRC, any type) with its absolute expiry, restored with RESTORE ... ABSTTL. It needs no
// restart and works the same with AOF or RDB persistence. The keys are read while the
// server runs: each key is consistent, the whole is not a point-in-time snapshot.
type Redis struct {
	// Dial opens a connection to the server: a podexec.Pod's Forward(ctx, 6379)
	// through the API server, or net.Dial to a local one.
	Dial     func(ctx context.Context) (io.ReadWriteCloser, error)
	User     string // ACL user; empty: the default user
	Password string // sent with AUTH; empty: none
	// Timeout bounds a whole Backup or Restore; DefaultTimeout when zero.
	Timeout time.Duration
}

// DefaultTimeout bounds a Redis backup or restore whose context has no earlier deadline.
const DefaultTimeout = 30 * time.Minute

// redisMagic starts a Redis dump file; records follow, then an end mark with their count.
const redisMagic = "LABREDIS1\n"

const (
	recKey = 'K' // uvarint db, uvarint len, key, varint expiry (unix ms, -1 none), uvarint len, payload
	recEnd = 'E' // uvarint count of K records
)

// batch is how many keys go in one pipelined round trip.
const batch = 256

// session connects, authenticates and makes ctx's end close the connection, so no
// read or write outlives the deadline.
func (r Redis) session(ctx context.Context) (*resp, func(), error) {
	conn, err := r.Dial(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() { stop(); conn.Close() }
	c := newResp(conn)
	if r.Password != "" {
		args := []string{"AUTH", r.Password}
		if r.User != "" {
			args = []string{"AUTH", r.User, r.Password}
		}
		if _, err := c.do(args...); err != nil {
			done()
			return nil, nil, fmt.Errorf("redis: AUTH: %w", r.ctxErr(ctx, err))
		}
	}
	return c, done, nil
}

func (r Redis) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultTimeout
	}
	return r.Timeout
}

// ctxErr names the deadline when it is why the connection broke.
func (r Redis) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// Backup writes every key of the server to path (mode 0600, replaced only when whole)
// and its checksum to path+".sha256".
func (r Redis) Backup(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	c, done, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer done()
	err = writeDump(path, func(w io.Writer) error { return dumpKeys(c, w) })
	if err != nil {
		return fmt.Errorf("redis backup: %w", r.ctxErr(ctx, err))
	}
	return nil
}

func dumpKeys(c *resp, w io.Writer) error {
	dbs, err := keyspaces(c)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, redisMagic); err != nil {
		return err
	}
	count := uint64(0)
	for _, db := range dbs {
		if _, err := c.do("SELECT", strconv.Itoa(db)); err != nil {
			return fmt.Errorf("SELECT %d: %w", db, err)
		}
		seen := map[string]bool{} // SCAN may return a key twice
		cursor := "0"
		for {
			keys, next, err := scan(c, cursor)
			if err != nil {
				return err
			}
			var fresh [][]byte
			for _, k := range keys {
				if !seen[string(k)] {
					seen[string(k)] = true
					fresh = append(fresh, k)
				}
			}
			n, err := dumpBatch(c, w, db, fresh)
			if err != nil {
				return err
			}
			count += n
			if cursor = next; cursor == "0" {
				break
			}
		}
	}
	return writeRecord(w, recEnd, count)
}

// keyspaces lists the databases holding keys, from INFO keyspace ("db0:keys=...").
func keyspaces(c *resp) ([]int, error) {
	v, err := c.do("INFO", "keyspace")
	if err != nil {
		return nil, fmt.Errorf("INFO keyspace: %w", err)
	}
	info, _ := v.([]byte)
	var dbs []int
	for _, line := range strings.Split(string(info), "\n") {
		name, _, ok := strings.Cut(line, ":")
		if n, err := strconv.Atoi(strings.TrimPrefix(name, "db")); ok && strings.HasPrefix(name, "db") && err == nil {
			dbs = append(dbs, n)
		}
	}
	return dbs, nil
}

func scan(c *resp, cursor string) ([][]byte, string, error) {
	v, err := c.do("SCAN", cursor, "COUNT", "1000")
	if err != nil {
		return nil, "", fmt.Errorf("SCAN: %w", err)
	}
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return nil, "", errors.New("SCAN: unexpected reply")
	}
	next, _ := a[0].([]byte)
	items, _ := a[1].([]any)
	keys := make([][]byte, 0, len(items))
	for _, it := range items {
		if k, ok := it.([]byte); ok {
			keys = append(keys, k)
		}
	}
	return keys, string(next), nil
}

// dumpBatch pipelines DUMP and PEXPIRETIME of keys and writes a record per key that
// still exists.
func dumpBatch(c *resp, w io.Writer, db int, keys [][]byte) (uint64, error) {
	for _, k := range keys {
		c.send([]byte("DUMP"), k)
		c.send([]byte("PEXPIRETIME"), k)
	}
	if err := c.flush(); err != nil {
		return 0, err
	}
	n := uint64(0)
	for _, k := range keys {
		payload, err1 := c.read()
		expiry, err2 := c.read()
		if err := errors.Join(err1, err2, replyErr(payload), replyErr(expiry)); err != nil {
			return n, fmt.Errorf("DUMP %q: %w", k, err)
		}
		p, _ := payload.([]byte)
		at, _ := expiry.(int64)
		if p == nil || at == -2 { // gone (expired or deleted) since SCAN
			continue
		}
		if err := writeKey(w, db, k, at, p); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func replyErr(v any) error {
	if e, ok := v.(redisError); ok {
		return e
	}
	return nil
}

func writeRecord(w io.Writer, tag byte, n uint64) error {
	b := binary.AppendUvarint([]byte{tag}, n)
	_, err := w.Write(b)
	return err
}

func writeKey(w io.Writer, db int, key []byte, expiry int64, payload []byte) error {
	b := binary.AppendUvarint([]byte{recKey}, uint64(db))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendVarint(b, expiry)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// redisKey is one record of a dump.
type redisKey struct {
	db      int
	key     []byte
	expiry  int64 // unix ms; -1: none
	payload []byte
}

// readKeys calls fn for each record and checks the end mark and count.
func readKeys(r io.Reader, fn func(redisKey) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	head := make([]byte, len(redisMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != redisMagic {
		return errors.New("not a redis dump")
	}
	count := uint64(0)
	for {
		tag, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("record %d: %w (cut short)", count+1, err)
		}
		switch tag {
		case recEnd:
			n, err := binary.ReadUvarint(br)
			if err != nil || n != count {
				return fmt.Errorf("end mark: %d records, the mark says %d", count, n)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				return errors.New("data after the end mark")
			}
			return nil
		case recKey:
			k, err := readKey(br)
			if err != nil {
				return fmt.Errorf("record %d: %w", count+1, err)
			}
			if err := fn(k); err != nil {
				return err
			}
			count++
		default:
			return fmt.Errorf("record %d: unknown type %q", count+1, tag)
		}
	}
}

func readKey(br *bufio.Reader) (redisKey, error) {
	var k redisKey
	db, err := binary.ReadUvarint(br)
	if err != nil {
		return k, err
	}
	k.db = int(db)
	if k.key, err = readBytes(br); err != nil {
		return k, err
	}
	if k.expiry, err = binary.ReadVarint(br); err != nil {
		return k, err
	}
	k.payload, err = readBytes(br)
	return k, err
}

func readBytes(br *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if n > maxBulk {
		return nil, fmt.Errorf("length %d is beyond Redis' limit", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	return b, err
}

// VerifyRedis checks a Redis dump against its checksum file and reads every record to
// the end mark. It needs no server.
func VerifyRedis(path string) error {
	if err := verifyFile(path, redisMagic); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := readKeys(f, func(redisKey) error { return nil }); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Restore replaces every key of the server with the dump at path. Before anything is
// wiped, the dump is verified and the server must accept its first key under a
// temporary name (a payload from a newer Redis is refused there); then FLUSHALL, then
// every key with its expiry. Keys whose expiry passed since the backup stay gone.
func (r Redis) Restore(ctx context.Context, path string) error {
	if err := VerifyRedis(path); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	c, done, err := r.session(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := probe(c, path); err != nil {
		return fmt.Errorf("%s: the server does not accept this dump: %w", path, r.ctxErr(ctx, err))
	}
	if _, err := c.do("FLUSHALL", "SYNC"); err != nil {
		return fmt.Errorf("redis restore: FLUSHALL: %w", r.ctxErr(ctx, err))
	}
	if err := restoreKeys(c, path); err != nil {
		return fmt.Errorf("redis restore from %s: %w", path, r.ctxErr(ctx, err))
	}
	return nil
}

// errStop ends a read of the records early.
var errStop = errors.New("stop")

// probe restores the first key under a random name that expires in a minute, then
// deletes it.
func probe(c *resp, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var first *redisKey
	err = readKeys(f, func(k redisKey) error { first = &k; return errStop })
	if first == nil {
		return nil // an empty dump: nothing to check
	}
	if !errors.Is(err, errStop) {
		return err
	}
	tmp := make([]byte, 8)
	rand.Read(tmp)
	name := "lab-dbdump-probe:" + hex.EncodeToString(tmp)
	if _, err := c.do("SELECT", strconv.Itoa(first.db)); err != nil {
		return fmt.Errorf("SELECT %d: %w", first.db, err)
	}
	c.send([]byte("RESTORE"), []byte(name), []byte("60000"), first.payload)
	if err := c.flush(); err != nil {
		return err
	}
	v, err := c.read()
	if err == nil {
		err = replyErr(v)
	}
	if err != nil {
		return fmt.Errorf("RESTORE %q: %w", first.key, err)
	}
	_, err = c.do("DEL", name)
	return err
}

// restoreKeys pipelines SELECT and RESTORE ... ABSTTL REPLACE in batches.
func restoreKeys(c *resp, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var pending []redisKey
	db := -1
	flush := func() error {
		if err := c.flush(); err != nil {
			return err
		}
		for _, k := range pending {
			v, err := c.read()
			if err == nil {
				err = replyErr(v)
			}
			if err != nil {
				return fmt.Errorf("db %d key %q: %w", k.db, k.key, err)
			}
		}
		pending = pending[:0]
		return nil
	}
	err = readKeys(f, func(k redisKey) error {
		if k.db != db {
			db = k.db
			c.send([]byte("SELECT"), []byte(strconv.Itoa(db)))
			pending = append(pending, redisKey{db: db, key: []byte("(SELECT)")})
		}
		ttl := "0" // no expiry
		if k.expiry >= 0 {
			ttl = strconv.FormatInt(k.expiry, 10)
		}
		c.send([]byte("RESTORE"), k.key, []byte(ttl), k.payload, []byte("ABSTTL"), []byte("REPLACE"))
		pending = append(pending, k)
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
