package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/lock"
	"github.com/nexolab/lab/core/state"
)

// testkitLab is the lab of these tests: alpha and beta store message after delay.
func testkitLab(message, delay string) string {
	return header("reliability.local") + fmt.Sprintf(`stack "alpha" {
  message = %q
  delay   = %q
}
stack "beta" {
  message = %q
  delay   = "1s"
}
`, message, delay, message)
}

// background starts lab in the lab's folder and returns a channel with its result.
func (l *lab) background(args ...string) (*exec.Cmd, <-chan result) {
	cmd := l.command(context.Background(), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(l.t, cmd.Start())
	done := make(chan result, 1)
	go func() {
		_ = cmd.Wait()
		done <- result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
	}()
	return cmd, done
}

// waitLease waits until a lab process holds the lab's lock and returns its pid.
func waitLease(t *testing.T) int {
	var pid int
	require.Eventually(t, func() bool {
		l, err := client(t).Kube.CoordinationV1().Leases(state.Namespace).Get(context.Background(), lock.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		pid, _ = strconv.Atoi(l.Annotations["lab.nexolab.dev/pid"])
		return pid > 0
	}, time.Minute, 100*time.Millisecond, "no lab took the lock")
	return pid
}

func testkitMessage(t *testing.T, stack string) string {
	cm, err := client(t).Kube.CoreV1().ConfigMaps("testkit").Get(context.Background(), stack, metav1.GetOptions{})
	require.NoError(t, err)
	return cm.Data["message"]
}

func record(t *testing.T, stack string) state.Record {
	recs, err := state.New(client(t).Kube).List(context.Background())
	require.NoError(t, err)
	return recs[stack]
}

func recordMessage(t *testing.T, stack string) string {
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(record(t, stack).Config, &cfg))
	return fmt.Sprint(cfg["message"])
}

// R4: two real lab processes on one lab. The second writer fails at once naming the
// first; a read-only command does not wait; with --lock-timeout it waits, then works on
// what the first left. Without the lock B (no delay) would finish before A (6 s) and A's
// message would be the one left: the final state says who really went last.
func TestOneWriterAtATime(t *testing.T) {
	a := newLab(t, testkitLab("from A", "6s"))
	b := newLab(t, testkitLab("from B", "0s"))
	t.Cleanup(func() { b.run("destroy", "--yes", "--lock-timeout", "2m") })

	cmdA, doneA := a.background("apply")
	require.Equal(t, cmdA.Process.Pid, waitLease(t))

	start := time.Now()
	r := b.run("apply")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Less(t, time.Since(start), 30*time.Second, "fails at once rather than waiting for A")
	assert.Contains(t, r.stderr, fmt.Sprintf("(pid %d, \"lab apply\", since ", cmdA.Process.Pid), "names the holder")
	assert.Contains(t, r.stderr, "--lock-timeout")
	for _, cmd := range [][]string{{"plan"}, {"status"}, {"destroy", "--yes"}} {
		r := b.run(cmd...)
		if cmd[0] == "destroy" {
			assert.Contains(t, r.stderr, "locked by", "destroy is a writer too")
			continue
		}
		assert.Equal(t, 0, r.code, "read-only %s never waits for the lock\n%s", cmd[0], r)
	}

	waited := b.ok("apply", "--lock-timeout", "2m")
	ra := <-doneA
	require.Equal(t, 0, ra.code, "%s", ra)
	assert.Contains(t, waited.stdout, "2 ok")
	for _, s := range []string{"alpha", "beta"} {
		assert.Equal(t, "from B", testkitMessage(t, s), "B's apply ran after A's, not beside it")
		assert.Equal(t, "from B", recordMessage(t, s))
	}
	_, err := client(t).Kube.CoordinationV1().Leases(state.Namespace).Get(context.Background(), lock.Name, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the lock is released: %v", err)
}

// R4: a writer killed while it holds the lock stops renewing it; the next writer takes
// it over once the lease has run out.
func TestKilledWriterLockIsTakenOver(t *testing.T) {
	a := newLab(t, testkitLab("from A", "2m"))
	b := newLab(t, testkitLab("from B", "0s"))
	t.Cleanup(func() { b.run("destroy", "--yes", "--lock-timeout", "2m") })

	cmdA, doneA := a.background("apply")
	require.Equal(t, cmdA.Process.Pid, waitLease(t))
	require.NoError(t, cmdA.Process.Signal(syscall.SIGKILL))
	<-doneA
	requireNoPluginProcess(t)

	assert.Equal(t, 1, b.run("apply").code, "the lease has not run out yet")
	b.ok("apply", "--lock-timeout", "2m")
	assert.Equal(t, "from B", testkitMessage(t, "alpha"))
}

// R3: SIGINT or SIGTERM during an apply stops launching stacks (beta waits for alpha and
// never starts), gives the running one a bounded grace, leaves no plugin process behind
// within 5 s, records the interrupted stack as such, and a re-apply converges.
func TestInterruptedApply(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			requireNoPluginProcess(t)
			hcl := func(delay string) string {
				return header("interrupt.local") + fmt.Sprintf(`stack "alpha" {
  message = "interrupted"
  delay   = %q
}
stack "beta" {
  message    = "after alpha"
  depends_on = ["alpha"]
}
`, delay)
			}
			l := newLab(t, hcl("5m"))
			t.Cleanup(func() { l.run("destroy", "--yes", "--lock-timeout", "1m") })

			cmd := l.command(context.Background(), "apply", "-o", "json")
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			sc := bufio.NewScanner(stdout)
			var lines []string
			var signalled time.Time
			for sc.Scan() {
				lines = append(lines, sc.Text())
				var ev map[string]any
				require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
				if signalled.IsZero() && ev["type"] == "event" && ev["stack"] == "alpha" && ev["step"] == "work" {
					require.NoError(t, cmd.Process.Signal(sig))
					signalled = time.Now()
				}
			}
			require.Error(t, cmd.Wait())
			require.False(t, signalled.IsZero(), "alpha never started working:\n%s", strings.Join(lines, "\n"))
			assert.Equal(t, 1, cmd.ProcessState.ExitCode(), "%s", stderr.String())
			deadline := signalled.Add(5 * time.Second)
			require.Eventually(t, func() bool { return len(pluginProcesses(t)) == 0 }, time.Until(deadline), 50*time.Millisecond,
				"plugin processes left 5 s after the signal: %v", pluginProcesses(t))

			rec := record(t, "alpha")
			assert.Equal(t, state.Interrupted, rec.Status, "%+v", rec)
			assert.Contains(t, rec.Error, "interrupted")
			recs, err := state.New(client(t).Kube).List(context.Background())
			require.NoError(t, err)
			_, hasBeta := recs["beta"]
			assert.False(t, hasBeta, "beta was never launched")
			assert.Contains(t, strings.Join(lines, "\n"), `"outcome":"skipped"`, "beta reported as skipped")

			l.write(hcl("0s"))
			assert.Regexp(t, `alpha\s+upgrade`, l.ok("plan").stdout)
			l.ok("apply")
			assert.Equal(t, state.Installed, record(t, "alpha").Status)
			assert.Equal(t, state.Installed, record(t, "beta").Status)
			assert.Regexp(t, `alpha\s+unchanged`, l.ok("plan").stdout, "converged")
		})
	}
}
