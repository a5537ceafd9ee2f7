package k3d

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/sdk"
)

// testProvider is the default cluster with a data_dir, free ports and a HOME of its own.
func testProvider(t *testing.T) *Provider {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	p := load(t, "testdata/default.hcl")
	p.cfg.DataDir = filepath.Join(t.TempDir(), "lab", "data")
	p.cfg.HTTPPort, p.cfg.HTTPSPort, p.cfg.APIPort = freePort(t), freePort(t), freePort(t)
	p.minFreeDisk = 1
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func check(t *testing.T, checks []cluster.Check, name string) cluster.Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, checks)
	return cluster.Check{}
}

// TestPreflightWithoutDocker is a laptop whose Docker is not running: the docker check
// names where it looked, the checks that need the engine say so, the others still run,
// and nothing is created.
func TestPreflightWithoutDocker(t *testing.T) {
	// bogus:// once made k3d's docker client setup exit the whole process.
	for _, host := range []string{"unix:///nonexistent.sock", "tcp://127.0.0.1:1", "bogus://nowhere"} {
		t.Run(host, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", host)
			p := testProvider(t)
			checks := p.Preflight(context.Background(), sdk.Footprint{})

			docker := check(t, checks, "docker")
			assert.False(t, docker.OK)
			assert.Contains(t, docker.Message, host)
			assert.Contains(t, docker.Message, "DOCKER_HOST")
			for _, name := range []string{"memory", "cpus"} {
				c := check(t, checks, name)
				assert.False(t, c.OK)
				assert.Equal(t, "not checked: the Docker engine is not reachable", c.Message)
			}
			for _, c := range checks[3:] {
				assert.True(t, c.OK, "%s: %s", c.Name, c.Message)
			}
			assert.Equal(t, p.cfg.DataDir+" will be created", check(t, checks, "data_dir").Message)
			assert.NoDirExists(t, p.cfg.DataDir, "preflight changes nothing")

			err := cluster.PreflightError(checks)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "docker: the Docker engine is not reachable at "+host)
		})
	}
}

// TestPreflightDefaultSocket: with DOCKER_HOST unset the message says the default socket
// was tried, which is what a user without Docker sees first.
func TestPreflightDefaultSocket(t *testing.T) {
	if _, err := os.Stat("/var/run/docker.sock"); err == nil {
		t.Skip("this machine has a Docker socket")
	}
	t.Setenv("DOCKER_HOST", "")
	require.NoError(t, os.Unsetenv("DOCKER_HOST"))
	t.Setenv("DOCKER_CONTEXT", "")
	p := testProvider(t)
	docker := check(t, p.Preflight(context.Background(), sdk.Footprint{}), "docker")
	assert.False(t, docker.OK)
	assert.Equal(t, "the Docker engine is not reachable at unix:///var/run/docker.sock (DOCKER_HOST is not set, so the default socket was tried). "+
		"Start Docker (Docker Desktop, colima or the docker service) or set DOCKER_HOST to a running engine", docker.Message)
}

// TestPortHeld holds a port the way another program would and expects its check to fail
// with the attribute to change.
func TestPortHeld(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	c := portCheck("port "+strconv.Itoa(port)+" (http)", "http_port", "", port)
	assert.False(t, c.OK)
	assert.Contains(t, c.Message, "port "+strconv.Itoa(port)+" is already in use")
	assert.Contains(t, c.Message, "set http_port in the cluster block")

	// The API listens on loopback: a program holding the port there is found too.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l2.Close()
	api := l2.Addr().(*net.TCPAddr).Port
	assert.False(t, portCheck("api", "api_port", apiHostIP, api).OK)

	free := freePort(t)
	assert.True(t, portCheck("free", "http_port", "", free).OK)
}

// TestPortsOfRunningCluster: a running cluster holds its own ports, which is no failure.
func TestPortsOfRunningCluster(t *testing.T) {
	p := testProvider(t)
	l, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer l.Close()
	p.cfg.HTTPPort = l.Addr().(*net.TCPAddr).Port
	assert.False(t, check(t, p.hostChecks(false), "port "+strconv.Itoa(p.cfg.HTTPPort)+" (http)").OK)
	assert.True(t, check(t, p.hostChecks(true), "port "+strconv.Itoa(p.cfg.HTTPPort)+" (http)").OK)
}

// TestDataDirUnderFile: a data_dir whose parent is a regular file can never be created.
// (Tests run as root, who may write anywhere, so a file stands in for a read-only folder.)
func TestDataDirUnderFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	c := dataDirCheck(filepath.Join(file, "data"))
	assert.False(t, c.OK)
	assert.Equal(t, file+" is a file, so data_dir "+filepath.Join(file, "data")+
		" cannot be a folder: set data_dir in the lab block to another path", c.Message)

	c = dataDirCheck(file)
	assert.False(t, c.OK, "data_dir itself a file")
}

func TestDataDirWritable(t *testing.T) {
	dir := t.TempDir()
	c := dataDirCheck(dir)
	assert.True(t, c.OK)
	assert.Equal(t, dir+" exists and is writable", c.Message)

	if os.Geteuid() == 0 {
		t.Log("running as root: the read-only folder case needs an ordinary user")
		return
	}
	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o555))
	c = dataDirCheck(filepath.Join(ro, "data"))
	assert.False(t, c.OK)
	assert.Contains(t, c.Message, "is not writable")
}

func TestDiskCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	c := diskCheck(dir, 1)
	assert.True(t, c.OK, c.Message)
	assert.Contains(t, c.Message, "free under "+filepath.Dir(filepath.Dir(dir)))

	c = diskCheck(dir, 1<<62)
	assert.False(t, c.OK)
	assert.Contains(t, c.Message, "the lab wants at least 4EiB")
}

func TestMemoryCheck(t *testing.T) {
	cfg := load(t, "testdata/default.hcl").Config() // 1 server + 2 agents of 4g: 12GiB
	gib := int64(1 << 30)

	c := memoryCheck(cfg, engineInfo{MemBytes: 8 * gib}, sdk.Footprint{})
	assert.False(t, c.OK)
	assert.Equal(t, "Docker has 8GiB of memory but the nodes may use 12GiB (1 server(s) × 4g + 2 agent(s) × 4g): "+
		"give Docker more memory (Docker Desktop: Settings > Resources) or lower server_memory/agent_memory", c.Message)

	c = memoryCheck(cfg, engineInfo{MemBytes: 16 * gib}, sdk.Footprint{MemoryRequestBytes: 13 * gib})
	assert.False(t, c.OK)
	assert.Contains(t, c.Message, "the stacks request 13GiB of memory but the nodes have 12GiB")

	c = memoryCheck(cfg, engineInfo{MemBytes: 16 * gib}, sdk.Footprint{MemoryRequestBytes: 6 * gib})
	assert.True(t, c.OK)
	assert.Equal(t, "Docker has 16GiB; the nodes may use 12GiB; the stacks request 6GiB", c.Message)
}

func TestCPUCheck(t *testing.T) {
	assert.False(t, cpuCheck(engineInfo{CPUs: 1}, sdk.Footprint{}).OK)
	c := cpuCheck(engineInfo{CPUs: 4}, sdk.Footprint{CPURequestMillis: 4500})
	assert.False(t, c.OK)
	assert.Equal(t, "the stacks request 4.5 CPUs but Docker has 4: give Docker more CPUs or disable stacks", c.Message)
	assert.True(t, cpuCheck(engineInfo{CPUs: 4}, sdk.Footprint{CPURequestMillis: 3000}).OK)
}

func TestPreflightError(t *testing.T) {
	assert.NoError(t, cluster.PreflightError([]cluster.Check{{Name: "a", OK: true}}))
	err := cluster.PreflightError([]cluster.Check{{Name: "a", OK: true}, {Name: "b", Message: "broken"}, {Name: "c", Message: "also"}})
	assert.EqualError(t, err, "preflight failed, nothing was changed:\n  b: broken\n  c: also")
}

// TestPreflightOfFile is `lab preflight lab.hcl`: the checks of a file, or its diagnostics.
func TestPreflightOfFile(t *testing.T) {
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	c, diags := config.Load("testdata/architecture.hcl", config.Options{})
	require.False(t, diags.HasErrors(), config.Lines(diags))
	checks, diags := Preflight(context.Background(), c, sdk.Footprint{})
	require.False(t, diags.HasErrors())
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"docker", "memory", "cpus", "port 80 (http)", "port 443 (https)",
		"port 6550 (Kubernetes API)", "data_dir", "disk"}, names)

	c, diags = config.Load("testdata/invalid/servers_zero.hcl", config.Options{})
	require.False(t, diags.HasErrors())
	checks, diags = Preflight(context.Background(), c, sdk.Footprint{})
	assert.Nil(t, checks)
	assert.True(t, diags.HasErrors())
}
