package k3d

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/config"
)

// TestInvalidBlocks loads each broken fixture and checks what lab validate prints for it:
// the file, line and column of the value at fault and a message naming the attribute.
func TestInvalidBlocks(t *testing.T) {
	for name, want := range map[string]string{
		"bad_type":            `6:13: error: Incorrect attribute value type: servers must be a whole number; got the string "two".`,
		"servers_zero":        `6:13: error: Invalid servers: servers must be between 1 and 9; got 0.`,
		"unknown_attribute":   `6:3: error: Unsupported argument: An argument named "agnets" is not expected here. Did you mean "agents"?`,
		"bad_port":            `6:15: error: Invalid http_port: http_port must be a port between 1 and 65535; got 70000.`,
		"fractional_port":     `6:14: error: Invalid api_port: api_port must be a port number; 6550.5 is not.`,
		"duplicate_port":      `6:16: error: Duplicate port: http_port and https_port are both 80; each needs its own host port.`,
		"bad_memory":          `6:18: error: Invalid agent_memory: agent_memory must be a size of at least 512m, such as "4g"; got "4q".`,
		"small_memory":        `6:19: error: Invalid server_memory: server_memory must be a size of at least 512m, such as "4g"; got "256m".`,
		"bad_k3s_args":        `6:14: error: Invalid k3s_args: k3s_args entry "--disable=metrics-server@nodes:1": "nodes:1" is not a node filter such as server:0, agent:*, agent:0,1 or all.`,
		"k3s_arg_not_flag":    `6:14: error: Invalid k3s_args: k3s_args entry "disable=metrics-server": "disable=metrics-server" is not a k3s flag (flags start with -).`,
		"filter_out_of_range": `7:14: error: Invalid k3s_args: k3s_args entry "--node-taint=x=y:NoSchedule@agent:3": the node filters agent:3 do not fit a cluster of 1 server(s) and 1 agent(s) (indexes start at 0).`,
		"bad_image":           `6:11: error: Invalid image: image must be a k3s image with a tag, such as "rancher/k3s:v1.33.9-k3s1"; got "rancher/k3s".`,
		"bad_name":            `6:10: error: Invalid cluster name: "Nexo_Local" cannot name a k3d cluster: use at most 32 letters, digits and hyphens, starting and ending with a letter or digit.`,
		"bad_mirrors":         `6:13: error: Invalid mirrors: mirror endpoint "ftp://mirror.example" of docker.io must be an http:// or https:// URL.`,
		"bad_node_labels":     `6:17: error: Incorrect attribute value type: node_labels must be a map of label = value or a list of "KEY=VALUE@NODEFILTER" strings; got the number 5.`,
		"bad_label_key":       `6:17: error: Invalid node_labels: node_labels "bad key": "bad key" is not a Kubernetes label key.`,
		"bad_bool":            `6:31: error: Incorrect attribute value type: update_default_kubeconfig must be true or false; got the string "yes".`,
		"undefined_variable":  `6:15: error: Unsupported attribute: This object does not have an attribute named "agents".`,
		"colon_data_dir":      `1:1: error: Invalid data_dir: data_dir "/srv/nexo:data" contains ':', which Docker volume mounts cannot express.`,
		"long_lab_name":       `1:1: error: Invalid cluster name: The default cluster name "a-very-long-lab-name-for-k3d-local" (the lab's name and "-local") is longer than k3d's 32 characters; set name in the cluster block.`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", name+".hcl")
			c, diags := config.Load(path, config.Options{})
			require.False(t, diags.HasErrors(), config.Lines(diags))
			_, diags = New(c)
			assert.Equal(t, path+":"+want+"\n", config.Lines(diags))
		})
	}
}

// TestTwoServersWarns: a valid but fragile choice is a warning, not an error.
func TestTwoServersWarns(t *testing.T) {
	c, diags := config.Load("testdata/two_servers.hcl", config.Options{})
	require.False(t, diags.HasErrors(), config.Lines(diags))
	p, diags := New(c)
	require.False(t, diags.HasErrors(), config.Lines(diags))
	require.Len(t, diags, 1)
	assert.Equal(t, hcl.DiagWarning, diags[0].Severity)
	assert.Contains(t, config.Lines(diags), "testdata/two_servers.hcl:6:13: warning: Two servers have no fault tolerance")
	assert.Equal(t, 2, p.Config().Servers)
}

// TestK3dValidates shows k3d's own validation running on the translation: a config that
// bypasses Decode is still refused before any runtime call.
func TestK3dValidates(t *testing.T) {
	cfg := load(t, "testdata/default.hcl").Config()
	cfg.Name = "Not_A_Hostname"
	_, err := cfg.ClusterConfig(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not match requirements")

	cfg = load(t, "testdata/default.hcl").Config()
	cfg.ServerMemory = "lots"
	_, err = cfg.ClusterConfig(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "servers memory limit value is invalid")
}
