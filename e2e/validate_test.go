package e2e

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Every invalid fixture fails validation with exit code 2 and the diagnostic its first
// line announces ("# want: file:line:col: error: ..."), and nothing runs.
func TestInvalidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 20)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := wantLine(t, f)
			l := newLab(t, "")
			copyFile(t, f, filepath.Join(l.dir, filepath.Base(f)))
			r := l.run("validate", filepath.Base(f))
			assert.Equal(t, 2, r.code, "%s", r)
			assert.Contains(t, r.stderr, want)
		})
	}
}

func wantLine(t *testing.T, path string) string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	require.True(t, sc.Scan())
	want, ok := strings.CutPrefix(sc.Text(), "# want: ")
	require.True(t, ok, "%s: first line must be # want: <diagnostic>", path)
	return want
}

func copyFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, b, 0o644))
}

// The full-featured lab file is valid; its warnings are printed but do not fail it,
// and variables come from -var and LAB_VAR_ as well as defaults.
func TestValidFixture(t *testing.T) {
	l := newLab(t, "")
	for _, f := range []string{"full.hcl", "message.txt"} {
		copyFile(t, filepath.Join("testdata/valid", f), filepath.Join(l.dir, f))
	}
	r := l.ok("validate", "full.hcl")
	assert.Contains(t, r.stdout, "full.hcl is valid: 3 stacks enabled, 3 with a plugin")

	bad := l.run("validate", "full.hcl", "-var", "replicas=9")
	assert.Equal(t, 2, bad.code)
	assert.Contains(t, bad.stderr, `full.hcl:42:16: error: Invalid value for "replicas": 10 is above the maximum of 5.`)

	l.env = append(l.env, "LAB_VAR_domain=FROM-ENV.local")
	r = l.ok("render", "-f", "full.hcl", "ingress")
	assert.Contains(t, r.stdout, "level: INFO")
	l.ok("validate", "full.hcl")
	undeclared := l.run("validate", "full.hcl", "-var", "domian=x")
	assert.Contains(t, undeclared.stderr, `error: Undeclared variable: -var domian is given but lab.hcl declares no variable "domian". Did you mean "domain"?`)
}

// A stack without a plugin is a warning that names the block; validate still passes.
// (No plugin serves "tracing"; every stack of the architecture has one.)
func TestStackWithoutPlugin(t *testing.T) {
	l := newLab(t, header("e2e.local")+"stack \"tracing\" {\n  sample_rate = 3\n}\n")
	r := l.ok("validate")
	assert.Contains(t, r.stderr, `lab.hcl:9:1: warning: No plugin found: No plugin for stack "tracing" (lab-plugin-tracing); the stack is skipped.`)
}

// The nginx controller is accepted with a warning that upstream retired it.
func TestRetiredControllerWarning(t *testing.T) {
	l := newLab(t, header("e2e.local")+ingressBlock("nginx"))
	r := l.ok("validate")
	assert.Contains(t, r.stderr, `lab.hcl:10:16: warning: controller = "nginx": ingress-nginx was retired upstream in March 2026`)
}

// validate launches a plugin only the first time it sees the binary: later runs read its
// schema from the cache, keyed by the binary's checksum. A rebuilt binary is launched again.
func TestValidateLaunchesNothingOnceCached(t *testing.T) {
	l := newLab(t, header("cache.local")+"stack \"alpha\" {}\n")
	first := l.ok("validate", "--log-level", "debug")
	assert.Contains(t, first.stderr, "starting plugin")
	second := l.ok("validate", "--log-level", "debug")
	assert.NotContains(t, second.stderr, "starting plugin")

	// Touching the binary without changing it keeps the cache; changing it does not.
	alpha := filepath.Join(bin, "lab-plugin-alpha")
	now := time.Now()
	require.NoError(t, os.Chtimes(alpha, now, now))
	assert.NotContains(t, l.ok("validate", "--log-level", "debug").stderr, "starting plugin")
}

// A plugin's own rule (testkit refuses a tag given twice) is reported by validate and plan
// at the list element it is about, before anything is touched; the answer is cached with
// the config, so a warm validate launches nothing, and a fixed config passes.
func TestPluginValidateAtItsAttribute(t *testing.T) {
	l := newLab(t, header("rules.local")+"stack \"beta\" {\n  tags = [\"a\", \"b\",\n    \"a\"]\n}\n")
	for _, cmd := range []string{"validate", "plan"} {
		r := l.run(cmd)
		assert.Equal(t, 2, r.code, "%s", r)
		assert.Contains(t, r.stderr, `lab.hcl:11:5: error: Invalid value for "tags[2]": tag "a" is given twice.`)
	}
	warm := l.run("validate", "--log-level", "debug")
	assert.NotContains(t, warm.stderr, "starting plugin", "the answer for this config is cached")
	_, err := client(t).Kube.CoreV1().ConfigMaps("testkit").Get(context.Background(), "beta", metav1GetOptions)
	assert.True(t, apierrors.IsNotFound(err), "nothing was installed: %v", err)

	l.write(header("rules.local") + "stack \"beta\" {\n  tags = [\"a\", \"b\"]\n}\n")
	l.ok("validate")
}
