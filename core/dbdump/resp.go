package dbdump

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// resp speaks the Redis protocol (RESP2) over one connection: commands are arrays of
// bulk strings; replies are read as simple strings, errors, integers, bulk strings
// (nil for null) and arrays. Pipelining is writing several commands before reading.
type resp struct {
	r *bufio.Reader
	w *bufio.Writer
}

func newResp(rw io.ReadWriter) *resp {
	return &resp{r: bufio.NewReaderSize(rw, 64<<10), w: bufio.NewWriterSize(rw, 64<<10)}
}

// redisError is an error reply of the server.
type redisError string

func (e redisError) Error() string { return string(e) }

// send queues one command; flush sends the queue.
func (c *resp) send(args ...[]byte) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n", len(a))
		c.w.Write(a)
		c.w.WriteString("\r\n")
	}
}

func (c *resp) flush() error { return c.w.Flush() }

// do sends one command and reads its reply; an error reply is returned as the error.
func (c *resp) do(args ...string) (any, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	c.send(b...)
	if err := c.flush(); err != nil {
		return nil, err
	}
	v, err := c.read()
	if err == nil {
		if e, ok := v.(redisError); ok {
			return nil, e
		}
	}
	return v, err
}

// maxBulk bounds one reply's length (Redis' own proto-max-bulk-len default is 512 MB).
const maxBulk = 512 << 20

// read reads one reply.
func (c *resp) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errors.New("redis: malformed reply")
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return redisError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxBulk {
			return nil, fmt.Errorf("redis: bad bulk length %q", body)
		}
		if n < 0 {
			return []byte(nil), nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return nil, err
		}
		return b[:n], nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("redis: bad array length %q", body)
		}
		if n < 0 {
			return []any(nil), nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("redis: unknown reply type %q", kind)
}
