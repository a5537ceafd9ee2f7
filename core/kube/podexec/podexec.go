// Package podexec runs commands in a pod's container and opens connections to a pod's
// port, both through the Kubernetes API server (the exec and portforward subresources),
// so a plugin reaches a database in the cluster with nothing exposed and no client tools
// on the user's machine. Local runs the same Commands on this machine (tests, tools).
package podexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Command is one program run with its streams.
type Command struct {
	Args []string
	// Env is added to the program's environment. In a pod it travels on stdin ahead of
	// the data, never on a command line that ps could show (see Pod).
	Env    map[string]string
	Stdin  io.Reader // nil: no input
	Stdout io.Writer // nil: discarded
	Stderr io.Writer // nil: kept only for the error message
}

// Runner runs a Command to its end. A non-zero exit is an *ExitError.
type Runner interface {
	Run(ctx context.Context, cmd Command) error
}

// ExitError is a command that ran and failed.
type ExitError struct {
	Where  string // "pod nexo-local/postgres-0 container postgres" or "local"
	Args   []string
	Code   int    // exit code, -1 when unknown (killed, connection lost)
	Stderr string // the end of its standard error
	Err    error
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: %s: %v", e.Where, strings.Join(e.Args, " "), e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *ExitError) Unwrap() error { return e.Err }

// DefaultTimeout bounds a command whose context has no earlier deadline.
const DefaultTimeout = 30 * time.Minute

// Local runs commands on this machine.
type Local struct {
	Timeout time.Duration // DefaultTimeout when zero
}

// Run runs cmd as a local process.
func (l Local) Run(ctx context.Context, cmd Command) error {
	if err := check(cmd); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(l.Timeout))
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Args[0], cmd.Args[1:]...)
	c.Env = os.Environ()
	for k, v := range cmd.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	tail := &tailBuffer{max: stderrTail}
	c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, orDiscard(cmd.Stdout), teeTail(cmd.Stderr, tail)
	c.WaitDelay = 5 * time.Second // a child holding our pipes cannot hang us
	if err := c.Run(); err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return &ExitError{Where: "local", Args: cmd.Args, Code: code, Stderr: tail.String(), Err: err}
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func check(cmd Command) error {
	if len(cmd.Args) == 0 || cmd.Args[0] == "" {
		return errors.New("podexec: empty command")
	}
	for k, v := range cmd.Env {
		if !envName.MatchString(k) {
			return fmt.Errorf("podexec: %s: environment variable %q: not a valid name", cmd.Args[0], k)
		}
		if strings.ContainsAny(v, "\n\x00") {
			return fmt.Errorf("podexec: %s: environment variable %s: value holds a newline or NUL", cmd.Args[0], k)
		}
	}
	return nil
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func teeTail(w io.Writer, tail *tailBuffer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(w, tail)
}

// stderrTail is how much of a command's standard error an error message keeps.
const stderrTail = 2048

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
