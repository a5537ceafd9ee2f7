package k3d

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	dockerunits "github.com/docker/go-units"
	"github.com/hashicorp/hcl/v2"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/sdk"
)

// DefaultMinFreeDisk is the free space the disk check wants on data_dir's file system:
// the stacks' volumes (Elasticsearch, Prometheus, Harbor's registry) grow there.
const DefaultMinFreeDisk = 20 << 30

// minCPUs is what one k3s server and its agents need to start at all.
const minCPUs = 2

// Preflight loads the cluster block of c and runs every check: what `lab preflight lab.hcl`
// shows. need is the sum of the enabled stacks' footprints.
func Preflight(ctx context.Context, c *config.Config, need sdk.Footprint) ([]cluster.Check, hcl.Diagnostics) {
	p, diags := New(c)
	if diags.HasErrors() {
		return nil, diags
	}
	return p.Preflight(ctx, need), diags
}

// Preflight checks the machine for this cluster and changes nothing: the Docker engine and
// its memory and CPUs, the host ports, data_dir and the free disk under it.
func (p *Provider) Preflight(ctx context.Context, need sdk.Footprint) []cluster.Check {
	docker, info, running := p.dockerCheck(ctx)
	checks := []cluster.Check{docker}
	if docker.OK {
		checks = append(checks, memoryCheck(p.cfg, info, need), cpuCheck(info, need))
	} else {
		notChecked := "not checked: " + ErrNoDocker.Error()
		checks = append(checks, cluster.Check{Name: "memory", Message: notChecked}, cluster.Check{Name: "cpus", Message: notChecked})
	}
	host := p.hostChecks(running)
	if docker.OK {
		p.namePortHolders(ctx, host)
	}
	checks = append(checks, host...)
	return append(checks, diskCheck(p.cfg.DataDir, p.minFreeDisk))
}

// portSpec is one host port of the cluster.
type portSpec struct {
	attr, name, host string
	port             int
}

func (p *Provider) hostPorts() []portSpec {
	return []portSpec{
		{"http_port", "http", "", p.cfg.HTTPPort},
		{"https_port", "https", "", p.cfg.HTTPSPort},
		{"api_port", "Kubernetes API", apiHostIP, p.cfg.APIPort},
	}
}

// hostChecks are the checks of this machine alone, the ports first in hostPorts' order.
// A running cluster holds its own ports.
func (p *Provider) hostChecks(running bool) []cluster.Check {
	var checks []cluster.Check
	for _, port := range p.hostPorts() {
		name := fmt.Sprintf("port %d (%s)", port.port, port.name)
		if running {
			checks = append(checks, cluster.Check{Name: name, OK: true, Message: "held by the running cluster " + p.cfg.Name})
			continue
		}
		checks = append(checks, portCheck(name, port.attr, port.host, port.port))
	}
	return append(checks, dataDirCheck(p.cfg.DataDir))
}

// namePortHolders rewrites the failed port checks whose port a container publishes, so
// the message names the container to stop.
func (p *Provider) namePortHolders(ctx context.Context, checks []cluster.Check) {
	cli, err := engine(ctx)
	if err != nil {
		return
	}
	defer cli.Close()
	qctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	containers, err := cli.ContainerList(qctx, container.ListOptions{})
	if err != nil {
		return
	}
	for i, port := range p.hostPorts() {
		if checks[i].OK {
			continue
		}
		for _, c := range containers {
			if !publishes(c, port.port) {
				continue
			}
			name := strings.TrimPrefix(c.Names[0], "/")
			checks[i].Message = fmt.Sprintf("port %d is published by the Docker container %s (image %s): stop it (docker stop %s) or set %s in the cluster block",
				port.port, name, c.Image, name, port.attr)
			break
		}
	}
}

func publishes(c types.Container, port int) bool {
	for _, p := range c.Ports {
		if int(p.PublicPort) == port && len(c.Names) > 0 {
			return true
		}
	}
	return false
}

// dockerCheck asks the engine for its resources and whether the lab's cluster runs.
func (p *Provider) dockerCheck(ctx context.Context) (cluster.Check, engineInfo, bool) {
	check := cluster.Check{Name: "docker"}
	cli, err := engine(ctx)
	if err != nil {
		check.Message = err.Error()
		return check, engineInfo{}, false
	}
	defer cli.Close()
	i, err := info(ctx, cli)
	if err != nil {
		check.Message = err.Error()
		return check, i, false
	}
	running := false
	if c, err := p.find(ctx); err == nil && c != nil {
		running = true
		for _, n := range c.Nodes {
			running = running && n.State.Running
		}
	}
	check.OK = true
	check.Message = fmt.Sprintf("Docker %s at %s", i.Version, i.Host)
	return check, i, running
}

// nodeMemory is what the nodes may use together: k3s sizes each node by its limit.
func nodeMemory(cfg Config) int64 {
	server, _ := dockerunits.RAMInBytes(cfg.ServerMemory)
	agent, _ := dockerunits.RAMInBytes(cfg.AgentMemory)
	return int64(cfg.Servers)*server + int64(cfg.Agents)*agent
}

func size(b int64) string { return dockerunits.BytesSize(float64(b)) }

func memoryCheck(cfg Config, i engineInfo, need sdk.Footprint) cluster.Check {
	c := cluster.Check{Name: "memory"}
	nodes := nodeMemory(cfg)
	split := fmt.Sprintf("%d server(s) × %s + %d agent(s) × %s", cfg.Servers, cfg.ServerMemory, cfg.Agents, cfg.AgentMemory)
	switch {
	case i.MemBytes < nodes:
		c.Message = fmt.Sprintf("Docker has %s of memory but the nodes may use %s (%s): give Docker more memory (Docker Desktop: Settings > Resources) or lower server_memory/agent_memory",
			size(i.MemBytes), size(nodes), split)
	case need.MemoryRequestBytes > nodes:
		c.Message = fmt.Sprintf("the stacks request %s of memory but the nodes have %s (%s): raise agent_memory or agents, or disable stacks",
			size(need.MemoryRequestBytes), size(nodes), split)
	default:
		c.OK = true
		c.Message = fmt.Sprintf("Docker has %s; the nodes may use %s; the stacks request %s", size(i.MemBytes), size(nodes), size(need.MemoryRequestBytes))
	}
	return c
}

func cpuCheck(i engineInfo, need sdk.Footprint) cluster.Check {
	c := cluster.Check{Name: "cpus"}
	requested := strconv.FormatFloat(float64(need.CPURequestMillis)/1000, 'f', -1, 64)
	switch {
	case i.CPUs < minCPUs:
		c.Message = fmt.Sprintf("Docker has %d CPU(s); the cluster needs at least %d: give Docker more CPUs", i.CPUs, minCPUs)
	case need.CPURequestMillis > int64(i.CPUs)*1000:
		c.Message = fmt.Sprintf("the stacks request %s CPUs but Docker has %d: give Docker more CPUs or disable stacks", requested, i.CPUs)
	default:
		c.OK = true
		c.Message = fmt.Sprintf("Docker has %d CPUs; the stacks request %s", i.CPUs, requested)
	}
	return c
}

// portCheck tries to listen where Docker will publish the port.
func portCheck(name, attr, host string, port int) cluster.Check {
	c := cluster.Check{Name: name}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err == nil {
		_ = l.Close()
		c.OK, c.Message = true, "free"
		return c
	}
	// Without privileges a low port cannot be bound here, yet a root Docker engine can:
	// it is free if nothing answers on it.
	if errors.Is(err, syscall.EACCES) && !answers(port) {
		c.OK, c.Message = true, "free (nothing answers on it)"
		return c
	}
	if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES) {
		c.Message = fmt.Sprintf("port %d is already in use by another program (a web server, another cluster?): stop it or set %s in the cluster block", port, attr)
		return c
	}
	c.Message = fmt.Sprintf("cannot listen on %s: %v", addr, err)
	return c
}

func answers(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// dataDirCheck wants data_dir to be a writable folder, or creatable in one.
func dataDirCheck(dir string) cluster.Check {
	c := cluster.Check{Name: "data_dir"}
	existing, err := nearestExisting(dir)
	if err != nil {
		c.Message = err.Error()
		return c
	}
	fi, err := os.Stat(existing)
	switch {
	case err != nil:
		c.Message = err.Error()
	case !fi.IsDir():
		c.Message = fmt.Sprintf("%s is a file, so data_dir %s cannot be a folder: set data_dir in the lab block to another path", existing, dir)
	case !writable(existing):
		c.Message = fmt.Sprintf("%s is not writable by this user: fix its permissions or set data_dir in the lab block", existing)
	case existing == dir:
		c.OK, c.Message = true, dir+" exists and is writable"
	default:
		c.OK, c.Message = true, dir+" will be created"
	}
	return c
}

// nearestExisting returns dir or its closest ancestor that exists.
func nearestExisting(dir string) (string, error) {
	p := filepath.Clean(dir)
	for {
		if _, err := os.Lstat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", fmt.Errorf("no part of %s exists", dir)
		}
		p = parent
	}
}

func diskCheck(dir string, min uint64) cluster.Check {
	c := cluster.Check{Name: "disk"}
	existing, err := nearestExisting(dir)
	if err != nil {
		c.Message = err.Error()
		return c
	}
	free, err := freeBytes(existing)
	if err != nil {
		c.Message = fmt.Sprintf("cannot read free space of %s: %v", existing, err)
		return c
	}
	if free < min {
		c.Message = fmt.Sprintf("%s free under %s; the lab wants at least %s for the stacks' volumes: free some space or move data_dir",
			size(int64(free)), existing, size(int64(min)))
		return c
	}
	c.OK, c.Message = true, fmt.Sprintf("%s free under %s", size(int64(free)), existing)
	return c
}
