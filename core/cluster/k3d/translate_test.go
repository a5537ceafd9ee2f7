package k3d

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	k3dconfig "github.com/k3d-io/k3d/v5/pkg/config"
	"github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/config"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// load reads a fixture and builds its provider, failing the test on any error.
func load(t *testing.T, path string) *Provider {
	t.Helper()
	c, diags := config.Load(path, config.Options{})
	require.False(t, diags.HasErrors(), config.Lines(diags))
	p, diags := New(c)
	require.False(t, diags.HasErrors(), config.Lines(diags))
	return p
}

// TestTranslation runs each fixture through k3d's own process, transform and validate
// functions and compares both ends of the translation with golden files.
func TestTranslation(t *testing.T) {
	for _, name := range []string{"default", "architecture", "full", "no_ingress"} {
		t.Run(name, func(t *testing.T) {
			p := load(t, filepath.Join("testdata", name+".hcl"))
			cc, err := p.ClusterConfig(context.Background())
			require.NoError(t, err)

			// The SimpleConfig is a valid k3d config file by k3d's own JSON schema.
			require.NoError(t, k3dconfig.ValidateSchema(p.Config().SimpleConfig(), []byte(v1alpha5.JSONSchema)))
			simple, err := yaml.Marshal(p.Config().SimpleConfig())
			require.NoError(t, err)
			full, err := yaml.Marshal(cc)
			require.NoError(t, err)
			golden(t, filepath.Join("testdata", name+".simple.yaml"), simple)
			golden(t, filepath.Join("testdata", name+".cluster.yaml"), full)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write the golden files")
	assert.Equal(t, string(want), string(got), "%s differs; go test -update rewrites it", path)
}

// TestDefaults checks the lab's defaults on a lab.hcl without a cluster block.
func TestDefaults(t *testing.T) {
	cfg := load(t, "testdata/default.hcl").Config()
	assert.Equal(t, "nexo-local", cfg.Name)
	assert.Equal(t, 1, cfg.Servers)
	assert.Equal(t, 2, cfg.Agents)
	assert.Equal(t, DefaultImage, cfg.Image)
	assert.Equal(t, "4g", cfg.ServerMemory)
	assert.Equal(t, "4g", cfg.AgentMemory)
	assert.Equal(t, []int{80, 443, 6550}, []int{cfg.HTTPPort, cfg.HTTPSPort, cfg.APIPort})
	assert.False(t, cfg.UpdateDefaultKubeconfig)
	assert.False(t, cfg.SwitchContext)
	assert.False(t, cfg.DisableTraefik, "no ingress stack: k3s keeps Traefik")
	assert.False(t, cfg.Harbor)
	assert.Equal(t, "/var/lib/lab-test/nexo", cfg.DataDir)
}

// TestClusterShape checks, on k3d's own result, what the architecture asks of the cluster.
func TestClusterShape(t *testing.T) {
	p := load(t, "testdata/architecture.hcl")
	cc, err := p.ClusterConfig(context.Background())
	require.NoError(t, err)

	roles := map[string]int{}
	for _, n := range cc.Nodes {
		roles[string(n.Role)]++
		if n.Role == "loadbalancer" {
			assert.Equal(t, "80", hostPort(n.Ports, "80"))
			assert.Equal(t, "443", hostPort(n.Ports, "443"))
			assert.Equal(t, "6550", hostPort(n.Ports, "6443"))
			assert.Equal(t, "127.0.0.1", n.Ports["6443"][0].HostIP, "the API is published on loopback only")
			assert.Equal(t, "ghcr.io/k3d-io/k3d-proxy:5.8.3", n.Image, "helper images are pinned to the library's release")
			continue
		}
		assert.Contains(t, n.Volumes, "/Volumes/Backup/nexo-cloudlab:/mnt/data", n.Name)
		assert.Equal(t, "4g", n.Memory, n.Name)
		if n.Role == "server" {
			assert.Contains(t, n.Args, "--disable=traefik")
			assert.Contains(t, n.Args, "--default-local-storage-path=/mnt/data")
		} else {
			assert.NotContains(t, n.Args, "--disable=traefik")
		}
	}
	assert.Equal(t, map[string]int{"server": 1, "agent": 2, "loadbalancer": 1}, roles)

	reg := cc.ClusterCreateOpts.Registries.Config
	require.NotNil(t, reg, "the harbor stack asks for a registries.yaml")
	assert.Equal(t, []string{"https://harbor.nexo.local"}, reg.Mirrors["harbor.nexo.local"].Endpoints)
	assert.True(t, reg.Configs["harbor.nexo.local"].TLS.InsecureSkipVerify)
}
