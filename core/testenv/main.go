package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Main starts a kwok cluster with nodes simulated nodes for a test package, runs its
// tests and always deletes the cluster:
//
//	var cluster *testenv.Cluster
//	func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }
func Main(m *testing.M, nodes int, c **Cluster) {
	os.Exit(runMain(m, nodes, c))
}

func runMain(m *testing.M, nodes int, c **Cluster) int {
	// Charts fetched by the tests' plugins go to a folder of this run, not the user's cache.
	charts, err := os.MkdirTemp("", "lab-test-charts-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(charts)
	os.Setenv("LAB_CHART_CACHE", charts)
	cl, err := StartKwok(nodes)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cl.Stop()
	*c = cl
	return m.Run()
}

// BuildPlugin builds the plugin in the test's folder as <tmp>/lab-plugin-<name>: a
// first-party stack as a link to the lab-plugins binary that carries it (Build), any other
// as its own binary.
func BuildPlugin(t testing.TB, name string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	pkg, err := filepath.Rel(root, wd)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lab-plugin-"+name)
	if builtIn(pkg) {
		if err = goBuild(root, root, filepath.Join(dir, pluginsBinary), "./cmd/"+pluginsBinary); err == nil {
			err = link(dir, filepath.Base(bin))
		}
	} else {
		err = goBuild(root, wd, bin, ".")
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
