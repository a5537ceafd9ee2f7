// Package e2e runs the real lab binary and real plugin binaries against a real Kubernetes
// API server (a kwok cluster), with charts served from a local chart repository.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

var (
	cluster *testenv.Cluster
	bin     string // lab and the plugins
	charts  string // URL of the test chart repository
)

// testkit stacks are copies of the testkit plugin under these names.
var testkits = []string{"alpha", "beta", "gamma", "delta"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	work, err := os.MkdirTemp("", "lab-e2e-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(work)
	bin = filepath.Join(work, "bin")
	pkgs := []string{"plugins/ingress", "plugins/argocd", "plugins/monitoring", "e2e/testplugins/oldproto"}
	for _, n := range testkits {
		pkgs = append(pkgs, "e2e/testplugins/testkit=lab-plugin-"+n)
	}
	if err := testenv.Build(bin, pkgs...); err != nil {
		return fail(err)
	}
	url, stop, err := testenv.ServeCharts(filepath.Join(work, "charts"))
	if err != nil {
		return fail(err)
	}
	defer stop()
	charts = url
	if cluster, err = testenv.StartKwok(3); err != nil {
		return fail(err)
	}
	defer cluster.Stop()
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e:", err)
	return 1
}

// lab is one lab working folder: a lab.hcl and a private cache.
type lab struct {
	t   *testing.T
	dir string
	env []string
}

func newLab(t *testing.T, hcl string) *lab {
	dir := t.TempDir()
	l := &lab{t: t, dir: dir, env: testenv.Env(bin, filepath.Join(dir, ".cache"))}
	l.write(hcl)
	return l
}

func (l *lab) write(hcl string) {
	require.NoError(l.t, os.WriteFile(filepath.Join(l.dir, "lab.hcl"), []byte(hcl), 0o644))
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the lab binary in the lab's folder, with a deadline.
func (l *lab) run(args ...string) result {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := l.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
	if err != nil && cmd.ProcessState == nil {
		l.t.Fatalf("lab %v: %v", args, err)
	}
	return r
}

func (l *lab) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lab"), args...)
	cmd.Dir, cmd.Env = l.dir, l.env
	return cmd
}

// ok runs lab and fails the test unless it exits 0.
func (l *lab) ok(args ...string) result {
	l.t.Helper()
	r := l.run(args...)
	require.Equal(l.t, 0, r.code, "lab %s\n%s", strings.Join(args, " "), r)
	return r
}

// header is the lab and cluster blocks of every e2e lab.hcl.
func header(domain string) string {
	return fmt.Sprintf("lab \"e2e\" {\n  domain = %q\n}\n\n%s\n", domain, cluster.HCL())
}

// ingressBlock is the ingress stack with its chart served by the test repository.
func ingressBlock(controller string) string {
	return fmt.Sprintf(`stack "ingress" {
  controller = %q
  chart "ingress-nginx" {
    repository = %q
  }
  chart "traefik" {
    repository = %q
  }
}
`, controller, charts, charts)
}

func client(t *testing.T) *kube.Client {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	return c
}

// events parses the JSON lines of an apply -o json.
func events(t *testing.T, stdout string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		out = append(out, m)
	}
	return out
}

var metav1GetOptions = metav1.GetOptions{}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
