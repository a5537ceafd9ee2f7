package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/testenv"
)

// Shell completion offers the stacks of lab.hcl (those not typed yet), and the scripts of
// the three shells are there.
func TestCompletionOffersTheStacksOfLabHCL(t *testing.T) {
	dir := t.TempDir()
	hcl := "lab \"c\" {\n  domain = \"c.local\"\n}\ncluster \"kwok\" {}\nstack \"ingress\" {}\nstack \"monitoring\" {}\nstack \"argocd\" {}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o644))
	complete := func(args ...string) []string {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append([]string{"__complete", "-f", filepath.Join(dir, "lab.hcl")}, args...))
		require.NoError(t, root.Execute())
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if !strings.HasPrefix(l, ":") {
				names = append(names, l)
			}
		}
		return names
	}
	assert.Equal(t, []string{"ingress", "monitoring", "argocd"}, complete("health", ""))
	assert.Equal(t, []string{"monitoring"}, complete("credentials", "m"))
	assert.Equal(t, []string{"monitoring", "argocd"}, complete("backup", "ingress", ""))
	for _, shell := range []string{"bash", "zsh", "fish"} {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"completion", shell})
		require.NoError(t, root.Execute())
		assert.Contains(t, out.String(), "lab", shell)
	}
}

// lab version names lab, the protocol and each plugin found, from the real binaries.
func TestVersionListsEachPlugin(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, testenv.Build(bin, "plugins/ingress"))
	cmd := exec.Command(filepath.Join(bin, "lab"), "version", "-o", "json")
	cmd.Dir, cmd.Env = t.TempDir(), testenv.Env(bin, t.TempDir())
	out, err := cmd.Output()
	require.NoError(t, err)
	var v struct {
		Lab      string
		Protocol int
		Plugins  []struct {
			Name, Version string
			Protocol      int
		}
	}
	require.NoError(t, json.Unmarshal(out, &v))
	assert.NotEmpty(t, v.Lab)
	assert.Equal(t, 1, v.Protocol)
	require.Len(t, v.Plugins, 1)
	assert.Equal(t, "ingress", v.Plugins[0].Name)
	assert.Equal(t, "0.1.0", v.Plugins[0].Version)
	assert.Equal(t, 1, v.Plugins[0].Protocol)
}
