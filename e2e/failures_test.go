package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pluginProcesses lists the processes running a binary of the test's plugin folder.
func pluginProcesses(t *testing.T) map[int]string {
	out := map[int]string{}
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A plugin is known by the name it was started as: a built-in one is lab itself.
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		if err == nil && strings.HasPrefix(argv0, bin+string(filepath.Separator)+"lab-plugin-") {
			out[pid] = filepath.Base(argv0)
		}
	}
	return out
}

func requireNoPluginProcess(t *testing.T) {
	require.Eventually(t, func() bool { return len(pluginProcesses(t)) == 0 }, 10*time.Second, 100*time.Millisecond,
		"plugin processes left behind: %v", pluginProcesses(t))
}

// A plugin killed in the middle of a Helm install fails its stack with the stack and step
// named, leaves no process behind, and the next apply converges.
func TestPluginKilledMidInstall(t *testing.T) {
	requireNoPluginProcess(t)
	l := newLab(t, header("killed.local")+ingressBlock("nginx"))
	t.Cleanup(func() { l.run("destroy", "--yes") })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := l.command(ctx, "apply", "-o", "json")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	var lines []string
	sc := bufio.NewScanner(stdout)
	killed := 0
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var ev map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
		if killed == 0 && ev["type"] == "event" && strings.HasPrefix(fmt.Sprint(ev["message"]), "installing ingress-nginx") {
			for pid, name := range pluginProcesses(t) {
				if name == "lab-plugin-ingress" {
					require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
					killed = pid
				}
			}
		}
	}
	err = cmd.Wait()
	require.NotZero(t, killed, "the plugin was never seen installing:\n%s", strings.Join(lines, "\n"))
	assert.Equal(t, 1, cmd.ProcessState.ExitCode(), "apply fails: %v\n%s", err, stderr.String())

	last := events(t, lines[len(lines)-1])[0]
	assert.Equal(t, "result", last["type"])
	assert.Equal(t, "ingress", last["stack"])
	assert.Equal(t, "failed", last["outcome"])
	assert.Contains(t, last["error"], `stack ingress failed in step "chart ingress-nginx"`)
	assert.Contains(t, last["error"], "the plugin process ended unexpectedly")
	requireNoPluginProcess(t)

	l.ok("apply")
	l.ok("health")
}

// A plugin that hangs past its stack's timeout is stopped and its stack fails, naming
// the timeout; the process is gone.
func TestPluginHangsPastDeadline(t *testing.T) {
	l := newLab(t, header("hang.local")+`stack "alpha" {
  behaviour = "hang"
  timeout   = "2s"
}
`)
	t.Cleanup(func() { l.run("destroy", "--yes") })
	r := l.run("apply")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, `alpha        FAILED: stack alpha failed in step "work": did not finish within 2s; the plugin was stopped`)
	requireNoPluginProcess(t)
}

// A stack that fails skips the stacks that depend on it and says so; independent stacks
// go on; the exit code is 1. Independent stacks run at the same time.
func TestFailureSkipsDependents(t *testing.T) {
	l := newLab(t, header("deps.local")+`stack "alpha" {
  behaviour = "fail"
  delay     = "1s"
}
stack "beta" {
  message = "independent"
  delay   = "1s"
}
stack "gamma" {
  depends_on = ["alpha", "beta"]
}
stack "delta" {
  depends_on = ["beta"]
}
`)
	t.Cleanup(func() { l.run("destroy", "--yes") })
	began := time.Now().Add(-time.Second)
	r := l.run("apply", "-o", "json")
	assert.Equal(t, 1, r.code, "%s", r)
	results := map[string]map[string]any{}
	starts := map[string]time.Time{}
	ends := map[string]time.Time{}
	for _, ev := range events(t, r.stdout) {
		stack := ev["stack"].(string)
		if at, ok := ev["time"]; ok {
			assert.True(t, parseTime(t, at).After(began), "event of %s at %v, before the run", stack, at)
		}
		switch ev["type"] {
		case "start":
			starts[stack] = parseTime(t, ev["time"])
		case "result":
			results[stack] = ev
			ends[stack] = starts[stack].Add(time.Duration(ev["seconds"].(float64) * float64(time.Second)))
		}
	}
	assert.Equal(t, "failed", results["alpha"]["outcome"])
	assert.Contains(t, results["alpha"]["error"], "told to fail")
	assert.Equal(t, "ok", results["beta"]["outcome"])
	assert.Equal(t, "skipped", results["gamma"]["outcome"])
	assert.Equal(t, "depends on alpha, which failed", results["gamma"]["error"])
	assert.Equal(t, "ok", results["delta"]["outcome"])

	// alpha and beta depend on nothing: they work at the same time.
	assert.True(t, starts["beta"].Before(ends["alpha"]) && starts["alpha"].Before(ends["beta"]),
		"alpha [%s, %s] and beta [%s, %s] should overlap", starts["alpha"], ends["alpha"], starts["beta"], ends["beta"])
	// delta waits for beta.
	assert.False(t, starts["delta"].Before(ends["beta"]), "delta started before beta ended")

	h := l.run("health")
	assert.Equal(t, 1, h.code)
	assert.Regexp(t, `alpha\s+unhealthy\n\s+error\s+last apply failed: told to fail`, h.stdout)
}

func parseTime(t *testing.T, v any) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, v.(string))
	require.NoError(t, err)
	return ts
}

// A plugin that crashes fails its stack and names it.
func TestPluginCrash(t *testing.T) {
	l := newLab(t, header("crash.local")+`stack "alpha" {
  behaviour = "crash"
  delay     = "300ms"
}
`)
	t.Cleanup(func() { l.run("destroy", "--yes") })
	r := l.run("apply")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `alpha        FAILED: stack alpha failed in step "work": the plugin process ended unexpectedly`)
	requireNoPluginProcess(t)
}

// A plugin built for another protocol version is named with both versions, not a crash.
func TestProtocolMismatch(t *testing.T) {
	l := newLab(t, header("proto.local")+"stack \"oldproto\" {}\n")
	r := l.run("validate")
	assert.Equal(t, 2, r.code, "%s", r)
	assert.Contains(t, r.stderr, "lab.hcl:9:1: error: Plugin failed: plugin oldproto")
	assert.Contains(t, r.stderr, "plugin speaks protocol version 99, this lab speaks version 1: rebuild the plugin against the SDK of this lab release")
	p := l.ok("plugins")
	assert.Regexp(t, `oldproto\s+-\s+-\s+.*plugin speaks protocol version 99`, p.stdout)
	assert.Regexp(t, `ingress\s+0\.1\.0\s+1\s+`, p.stdout)
}

// Backup writes one archive with a checksummed manifest; restore gives the data back.
func TestBackupAndRestore(t *testing.T) {
	l := newLab(t, header("backup.local")+`stack "alpha" {
  message = "precious"
}
`)
	t.Cleanup(func() { l.run("destroy", "--yes") })
	l.ok("apply")
	archive := filepath.Join(l.dir, "lab.tar.gz")
	l.ok("backup", "--to", archive)
	st, err := os.Stat(archive)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// Lose the data, then restore it.
	l.write(header("backup.local") + "stack \"alpha\" {\n  message = \"overwritten\"\n}\n")
	l.ok("apply")
	cm, err := client(t).Kube.CoreV1().ConfigMaps("testkit").Get(context.Background(), "alpha", metav1GetOptions)
	require.NoError(t, err)
	require.Equal(t, "overwritten", cm.Data["message"])
	l.ok("restore", archive, "--yes")
	cm, err = client(t).Kube.CoreV1().ConfigMaps("testkit").Get(context.Background(), "alpha", metav1GetOptions)
	require.NoError(t, err)
	assert.Equal(t, "precious", cm.Data["message"])

	// A damaged archive is refused before anything is restored.
	b, err := os.ReadFile(archive)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(archive, b[:len(b)/2], 0o600))
	r := l.run("restore", archive, "--yes")
	assert.Equal(t, 1, r.code)
}
