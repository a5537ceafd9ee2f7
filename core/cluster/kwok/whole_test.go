package kwok

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/cluster"
)

func provider(t testing.TB, name, workdir string, nodes int) *Provider {
	if _, err := os.Stat(filepath.Join(DefaultBinDir(), "kwokctl")); err != nil {
		t.Skipf("kwok binaries not built (make testbin): %v", err)
	}
	return New(Config{Name: name, Nodes: nodes, Workdir: workdir}, name)
}

var portLine = regexp.MustCompile(`(?m)^\s+(\w+Port): (\d+)$`)

// ports are the ports kwokctl chose for a cluster.
func (p *Provider) ports(t *testing.T) map[string]string {
	b, err := os.ReadFile(filepath.Join(p.dir(), "kwok.yaml"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range portLine.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	require.Contains(t, out, "kwokControllerPort")
	return out
}

// Two processes create kwok clusters at the same moment: both come up whole (every
// component running, every node Ready), on ports that do not collide.
func TestCreationsInTwoProcessesAtOnce(t *testing.T) {
	if dir := os.Getenv("LAB_KWOK_CREATE_CHILD"); dir != "" {
		createChild(dir)
		return
	}
	provider(t, "skip-check", t.TempDir(), 1)
	dirs := []string{t.TempDir(), t.TempDir()}
	cmds := make([]*exec.Cmd, len(dirs))
	for i, dir := range dirs {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestCreationsInTwoProcessesAtOnce$", "-test.v")
		cmds[i].Env = append(os.Environ(), "LAB_KWOK_CREATE_CHILD="+dir)
		require.NoError(t, cmds[i].Start())
	}
	for i, cmd := range cmds {
		assert.NoError(t, cmd.Wait(), "creation %d failed: %s", i, readFile(filepath.Join(dirs[i], "result")))
	}
	var ports []map[string]string
	for _, dir := range dirs {
		p := New(Config{Name: "r8-" + filepath.Base(dir), Workdir: dir}, "")
		ports = append(ports, p.ports(t))
	}
	for k, v := range ports[0] {
		for k2, v2 := range ports[1] {
			assert.NotEqual(t, v, v2, "%s of one cluster is %s of the other", k, k2)
		}
	}
}

// createChild creates a cluster, checks it whole and leaves its kwok.yaml for the parent.
func createChild(dir string) {
	p := New(Config{Name: "r8-" + filepath.Base(dir), Nodes: 2, Workdir: dir}, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := p.Create(ctx, cluster.CreateOptions{})
	if err == nil {
		err = p.Whole(ctx)
	}
	b, _ := os.ReadFile(filepath.Join(p.dir(), "kwok.yaml"))
	_ = p.Delete(ctx, cluster.DeleteOptions{})
	_ = os.MkdirAll(p.dir(), 0o755)
	_ = os.WriteFile(filepath.Join(p.dir(), "kwok.yaml"), b, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "result"), []byte(fmt.Sprint(err)), 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// A cluster whose kwok controller cannot bind its port (another process took it, as when
// two creations raced) fails its start at once, naming the component and its last log line,
// instead of leaving its nodes NotReady for whoever waits on them.
func TestComponentThatCannotBindIsNamed(t *testing.T) {
	p := provider(t, fmt.Sprintf("r8-bind-%d", os.Getpid()), t.TempDir(), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, p.Create(ctx, cluster.CreateOptions{}))
	t.Cleanup(func() { _ = p.Delete(context.Background(), cluster.DeleteOptions{}) })
	// The creation lock, held from the stop to the last start (hence start, not Start),
	// keeps a cluster that another test package creates meanwhile from picking a port the
	// stop frees.
	unlock, err := lockFile(ctx, createLock())
	require.NoError(t, err)
	defer unlock()
	require.NoError(t, p.Stop(ctx))
	l, err := net.Listen("tcp", "0.0.0.0:"+p.ports(t)["kwokControllerPort"])
	require.NoError(t, err, "the stop waits until its components have let go of their ports")
	defer l.Close()
	err = p.start(ctx)
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), "kwok-controller is not running")
	assert.Contains(t, err.Error(), "address already in use", "the component's last log line")
	assert.NotContains(t, err.Error(), "Ready after", "it fails on the dead component, not on a timeout")

	l.Close()
	require.NoError(t, p.start(ctx), "with the port free again the cluster starts whole")
}
