package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// With a kwok cluster block lab owns the cluster: apply creates it, status shows its
// nodes, restart stops and starts it and checks the stacks, destroy deletes it.
func TestLabOwnsAKwokCluster(t *testing.T) {
	workdir := t.TempDir()
	name := fmt.Sprintf("lab-own-%d", os.Getpid())
	l := newLab(t, fmt.Sprintf(`lab "own" {
  domain = "own.local"
}
cluster "kwok" {
  name    = %q
  nodes   = 2
  bin_dir = %q
  workdir = %q
}
stack "alpha" {
  message = "on my own cluster"
}
`, name, cluster.BinDir, workdir))
	clusterDir := filepath.Join(workdir, "clusters", name)
	t.Cleanup(func() { l.run("destroy", "--yes") })

	assert.Regexp(t, `cluster kwok "`+name+`": create`, l.ok("plan").stdout)
	l.ok("apply")
	assert.DirExists(t, clusterDir)
	st := l.ok("status")
	assert.Regexp(t, `cluster kwok "`+name+`": running`, st.stdout)
	assert.Regexp(t, `node-000001\s+agent\s+true`, st.stdout)
	assert.Regexp(t, `alpha\s+true\s+installed\s+1\.0\.0`, st.stdout)

	r := l.ok("restart")
	assert.Regexp(t, `alpha\s+healthy`, r.stdout)

	l.ok("destroy", "--yes")
	assert.NoDirExists(t, clusterDir, "destroy deletes the cluster lab created")
	assert.Regexp(t, `cluster kwok "`+name+`": create`, l.ok("plan").stdout)
}
