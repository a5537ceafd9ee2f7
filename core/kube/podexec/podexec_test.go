package podexec

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The environment of a pod command travels on stdin: run the exact arguments and
// stdin a pod would get with a local sh.
func TestEnvTravelsOnStdinNotOnTheCommandLine(t *testing.T) {
	password := `p@ss w0rd'"$HOME;` + "\t|"
	data := []byte("line 1\nPGPASSWORD=not-env\n\n\x00\xffbinary tail")
	envFile := filepath.Join(t.TempDir(), "env")
	cmd := Command{
		Args:  []string{"sh", "-c", `printf '%s|%s' "$PGPASSWORD" "$PGDATABASE" >"$1"; exec cat`, "sh", envFile},
		Env:   map[string]string{"PGPASSWORD": password, "PGDATABASE": "nexo"},
		Stdin: bytes.NewReader(data),
	}
	args, stdin := withEnv(cmd)
	for _, a := range args {
		assert.NotContains(t, a, "w0rd", "no argument may hold the password")
	}
	var out bytes.Buffer
	require.NoError(t, Local{}.Run(context.Background(), Command{Args: args, Stdin: stdin, Stdout: &out}))
	assert.Equal(t, data, out.Bytes(), "stdin after the environment reaches the command byte for byte")
	got, err := os.ReadFile(envFile)
	require.NoError(t, err)
	assert.Equal(t, password+"|nexo", string(got))
}

func TestEnvWithoutStdinGivesTheCommandEOF(t *testing.T) {
	args, stdin := withEnv(Command{Args: []string{"cat"}, Env: map[string]string{"A": "1"}})
	var out bytes.Buffer
	require.NoError(t, Local{Timeout: time.Minute}.Run(context.Background(), Command{Args: args, Stdin: stdin, Stdout: &out}))
	assert.Empty(t, out.String())
}

func TestBadEnvironmentIsRefusedBeforeRunning(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"newline in value": {"PGPASSWORD": "a\nb"},
		"bad name":         {"PG PASSWORD": "x"},
	} {
		err := Local{}.Run(context.Background(), Command{Args: []string{"true"}, Env: env})
		assert.Error(t, err, name)
		assert.NotContains(t, err.Error(), "a\nb")
	}
	assert.ErrorContains(t, Local{}.Run(context.Background(), Command{}), "empty command")
}

func TestLocalFailureNamesCommandCodeAndStderr(t *testing.T) {
	var stderr bytes.Buffer
	err := Local{}.Run(context.Background(), Command{
		Args:   []string{"sh", "-c", "echo 'pg_dump: error: no such database' >&2; exit 3"},
		Stderr: &stderr,
	})
	var ee *ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.Code)
	assert.Contains(t, err.Error(), "local: sh -c")
	assert.Contains(t, err.Error(), "pg_dump: error: no such database")
	assert.Contains(t, stderr.String(), "no such database", "the caller's stderr gets it too")
}

func TestLocalTimeout(t *testing.T) {
	err := Local{Timeout: 200 * time.Millisecond}.Run(context.Background(), Command{Args: []string{"sleep", "30"}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestStderrTailKeepsTheEnd(t *testing.T) {
	tb := &tailBuffer{max: 8}
	tb.Write([]byte("0123456789"))
	tb.Write([]byte("abc"))
	assert.Equal(t, "56789abc", tb.String())
}

func TestExecRequestNamesPodContainerAndCommand(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:6443"}
	kc, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	p := Pod{Config: cfg, Kube: kc, Namespace: "nexo-local", Name: "postgres-0", Container: "postgres"}
	args, _ := withEnv(Command{Args: []string{"pg_dump", "-Fc"}, Env: map[string]string{"PGPASSWORD": "secret"}})
	u := p.execURL(args, true)
	assert.Equal(t, "/api/v1/namespaces/nexo-local/pods/postgres-0/exec", u.Path)
	q, err := url.ParseQuery(u.RawQuery)
	require.NoError(t, err)
	assert.Equal(t, []string{"postgres"}, q["container"])
	assert.Equal(t, []string{"sh", "-c", envScript, "sh", "pg_dump", "-Fc"}, q["command"])
	assert.Equal(t, "true", q.Get("stdin"))
	assert.Equal(t, "true", q.Get("stdout"))
	assert.Equal(t, "true", q.Get("stderr"))
	assert.NotContains(t, u.String(), "secret")
	assert.Equal(t, "pod nexo-local/postgres-0 container postgres", p.where())
	assert.True(t, strings.HasPrefix(u.String(), "https://127.0.0.1:6443/"))
}
