package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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
// what the first left. Without the lock B (no delay) would finish before A (25 s) and A's
// message would be the one left: the final state says who really went last.
func TestOneWriterAtATime(t *testing.T) {
	a := newLab(t, testkitLab("from A", "25s"))
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
	assert.Contains(t, waited.stderr, "waiting for the lab lock", "B really waited for A")
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

// R9: the first apply pins each plugin in lab.lock.hcl; a binary that differs is refused
// before it runs, naming both checksums and how to accept it; lab plugins lock --upgrade
// accepts it.
func TestPluginLockFile(t *testing.T) {
	hcl := func(message string) string {
		return header("pinned.local") + fmt.Sprintf("stack \"alpha\" {\n  message = %q\n}\n", message)
	}
	l := newLab(t, hcl("first"))
	t.Cleanup(func() { l.run("destroy", "--yes", "--lock-timeout", "1m") })
	// The lab's own ./bin comes first on the plugin search path.
	own := filepath.Join(l.dir, "bin", "lab-plugin-alpha")
	require.NoError(t, os.Mkdir(filepath.Dir(own), 0o755))
	copyFile(t, filepath.Join(bin, "lab-plugin-alpha"), own)
	require.NoError(t, os.Chmod(own, 0o755))

	l.ok("apply")
	lockFile := filepath.Join(l.dir, "lab.lock.hcl")
	b, err := os.ReadFile(lockFile)
	require.NoError(t, err, "the first apply writes the lock file")
	first := sha256File(t, own)
	assert.Regexp(t, `plugin "alpha" \{\n  version = "1\.0\.0"\n  sha256  = "`+first+`"\n\}`, string(b))

	// Another binary under the same name: the same plugin with bytes appended.
	f, err := os.OpenFile(own, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("not the binary the lab was applied with")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	second := sha256File(t, own)
	l.write(hcl("second"))
	for _, cmd := range [][]string{{"apply"}, {"plugins", "lock"}} {
		r := l.run(cmd...)
		assert.NotEqual(t, 0, r.code, "%s", r)
		assert.Contains(t, r.stderr, "refused before it was started", "lab %v", cmd)
		assert.Contains(t, r.stderr, first)
		assert.Contains(t, r.stderr, second)
		assert.Contains(t, r.stderr, "lab plugins lock --upgrade")
	}
	assert.Equal(t, "first", testkitMessage(t, "alpha"), "the refused plugin never ran")

	r := l.ok("plugins", "lock", "--upgrade")
	assert.Regexp(t, `alpha\s+1\.0\.0\s+upgraded`, r.stdout)
	b, err = os.ReadFile(lockFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), second)
	assert.NotContains(t, string(b), first)
	l.ok("apply")
	assert.Equal(t, "second", testkitMessage(t, "alpha"))
	assert.Regexp(t, `alpha\s+1\.0\.0\s+unchanged`, l.ok("plugins", "lock").stdout)
}

func sha256File(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// R7: known secrets (a sensitive attribute written in lab.hcl, a value read from the
// environment, a generated password) never appear in what any command prints, at any
// log level, in -o json, render, a troubleshoot archive, or any ConfigMap of the cluster.
// Records keep a hash, so a changed secret is still a change.
func TestSecretsStayOut(t *testing.T) {
	const webhook = "https://hooks.example/R7-webhook-4f9c1e"
	const token = "R7-env-token-8d2a77"
	hcl := func(hook string) string {
		return header("secrets.local") + fmt.Sprintf(`stack "monitoring" {
  retention         = "7d"
  alert_webhook_url = %q
  chart "kube-prometheus-stack" {
    repository = %q
  }
}
stack "alpha" {
  message   = "reads a token"
  token_env = "R7_TOKEN"
}
`, hook, charts)
	}
	l := newLab(t, hcl(webhook))
	l.env = append(l.env, "R7_TOKEN="+token)
	t.Cleanup(func() { l.run("destroy", "--yes", "--lock-timeout", "1m") })

	var outputs []string
	run := func(args ...string) {
		r := l.ok(args...)
		outputs = append(outputs, fmt.Sprintf("lab %s:\n%s\n%s", strings.Join(args, " "), r.stdout, r.stderr))
	}
	run("validate", "--log-level", "trace")
	run("plan", "-o", "json", "--log-level", "trace")
	run("apply", "--log-level", "trace")
	run("apply", "--refresh", "-o", "json", "--log-level", "trace")
	for _, args := range [][]string{{"plan"}, {"status"}, {"health"}, {"render", "monitoring"}, {"credentials"}, {"plugins"}} {
		run(append(args, "--log-level", "trace")...)
		run(append(args, "-o", "json", "--log-level", "trace")...)
	}
	archive := filepath.Join(t.TempDir(), "troubleshoot.tar.gz")
	run("troubleshoot", "--to", archive, "--log-level", "trace")
	shown := l.ok("credentials", "monitoring", "--show-secrets", "-o", "json")
	var creds []map[string]any
	require.NoError(t, json.Unmarshal([]byte(shown.stdout), &creds))
	require.NotEmpty(t, creds)
	password := fmt.Sprint(creds[0]["password"])
	require.Len(t, password, 24, "a generated Grafana password")

	secrets := map[string]string{"webhook": webhook, "env token": token, "generated password": password}
	haystacks := map[string]string{"command output": strings.Join(outputs, "\n")}
	for name, content := range untar(t, archive) {
		haystacks["troubleshoot "+name] = content
	}
	cms, err := client(t).Kube.CoreV1().ConfigMaps("").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	for _, cm := range cms.Items {
		var all strings.Builder
		for k, v := range cm.Data {
			all.WriteString(k + "=" + v + "\n")
		}
		for k, v := range cm.BinaryData {
			all.WriteString(k + "=" + string(v) + "\n")
		}
		for k, v := range cm.Annotations {
			all.WriteString(k + "=" + v + "\n")
		}
		haystacks["ConfigMap "+cm.Namespace+"/"+cm.Name] = all.String()
	}
	require.Contains(t, haystacks, "ConfigMap lab-system/stack-monitoring")
	require.Contains(t, haystacks, "troubleshoot troubleshoot/lab.hcl")
	for what, secret := range secrets {
		for where, text := range haystacks {
			for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
				assert.NotContains(t, text, form, "the %s leaked into %s", what, where)
			}
		}
	}

	// What a record keeps of the secret is a hash: a changed secret is a change.
	rec := record(t, "monitoring")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, rec.Sensitive["alert_webhook_url"])
	l.write(hcl(webhook + "-rotated"))
	assert.Regexp(t, `monitoring\s+upgrade.*config changed`, l.ok("plan").stdout)
}

// untar returns the files of a tar.gz by name.
func untar(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = string(b)
	}
}

// R5: lab hosts show on a hosts file without the lab's block says so and shows what sync
// would write; after sync it shows the block's entries.
func TestHostsShowWithoutBlock(t *testing.T) {
	ctx := context.Background()
	l := newLab(t, header("hosts.local"))
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "r5-app", Namespace: "default"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "app.hosts.local"}}}}
	ings := client(t).Kube.NetworkingV1().Ingresses("default")
	_, err := ings.Create(ctx, ing, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ings.Delete(ctx, "r5-app", metav1.DeleteOptions{}) })
	file := filepath.Join(t.TempDir(), "hosts")
	require.NoError(t, os.WriteFile(file, []byte("127.0.0.1\tlocalhost\n"), 0o644))

	r := l.ok("hosts", "show", "--hosts-file", file)
	assert.Contains(t, r.stdout, file+" has no block of lab e2e.")
	assert.Contains(t, r.stdout, "lab hosts sync would write:\n# BEGIN lab e2e")
	assert.Contains(t, r.stdout, "127.0.0.1\tapp.hosts.local\n# END lab e2e")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1\tlocalhost\n", string(b), "show writes nothing")

	l.ok("hosts", "sync", "--hosts-file", file)
	assert.Equal(t, "127.0.0.1\tapp.hosts.local\n", l.ok("hosts", "show", "--hosts-file", file).stdout)
	l.ok("hosts", "remove", "--hosts-file", file)
	b, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1\tlocalhost\n", string(b))
}

// R6/R8: a lab-system held by an object's finalizer makes destroy end within its timeout,
// naming the object and the finalizer, instead of waiting for good.
func TestDestroyWithStuckFinalizer(t *testing.T) {
	ctx := context.Background()
	l := newLab(t, header("stuck.local")+"stack \"alpha\" {\n  message = \"held\"\n}\n")
	l.ok("apply")
	cms := client(t).Kube.CoreV1().ConfigMaps(state.Namespace)
	_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held",
		Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = cms.Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		require.Eventually(t, func() bool {
			_, err := client(t).Kube.CoreV1().Namespaces().Get(ctx, state.Namespace, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, time.Minute, 200*time.Millisecond, "lab-system is gone once the finalizer is")
	})

	r := l.run("destroy", "--yes", "--timeout", "15s")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "configmaps/held (finalizers: example.com/hold)", "names the object and its finalizer")
	_, err = client(t).Kube.CoreV1().ConfigMaps("testkit").Get(ctx, "alpha", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the stack itself was uninstalled: %v", err)
}
