// Package bench measures lab's performance figures and prints them as one table, each
// beside its goal and a peer measured in the same run, as medians: the no-op apply of the
// full lab (six stacks, real upstream charts, on a kwok cluster) against the helm CLI
// upgrading the same releases, the host's and each plugin's peak memory, six plugins
// launched at once, 50 test stacks in a graph of depth 5, and the install footprint.
// Run: make bench. It fails only when something errors; it asserts no timing.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nexolab/lab/core/cluster/kwok"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

func BenchmarkLab(b *testing.B) {
	loadStart := loadavg()
	root, err := testenv.RepoRoot()
	must(b, err)
	work := b.TempDir()
	bin := filepath.Join(work, "bin")
	pkgs := []string{"e2e/testplugins/testkit=testkit"}
	for _, s := range stacks {
		pkgs = append(pkgs, "plugins/"+s)
	}
	must(b, testenv.Build(bin, pkgs...))
	helm := filepath.Join(kwok.DefaultBinDir(), "helm")
	if _, err := os.Stat(helm); err != nil {
		b.Fatalf("helm is missing: run tools/testcluster/build.sh helm")
	}
	repo := testenv.UpstreamRepo(b)

	// The figures that need no cluster first, while none runs.
	footprint := footprintFigure(b, root, filepath.Join(work, "make-build"))
	launch := launchFigure(b, bin)
	figs := append(fullLabRun(b, work, bin, helm, repo), launch)
	figs = append(append(figs, scaleRun(b, work, bin)...), footprint)

	fmt.Printf("\nmachine: %s\nload average at start: %s, at end: %s\n\n", machine(), loadStart, loadavg())
	printTable(os.Stdout, figs)
	fmt.Println()
	printMisses(os.Stdout, figs)
	fmt.Println()
}

// fullLabRun measures the full lab on a kwok cluster of its own.
func fullLabRun(b *testing.B, work, bin, helm, repo string) []figure {
	cluster, err := testenv.StartKwok(3)
	must(b, err)
	defer cluster.Stop()
	kc, err := kube.Connect(cluster.Conn, nil)
	must(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go testenv.ProvisionVolumes(ctx, kc.Kube, "") // the full lab's databases and registry wait for volumes

	dir := labDir(b, work, "full", fullLab(cluster.HCL(), repo))
	helmHome := filepath.Join(work, "helm")
	helmEnv := append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig, "HELM_CACHE_HOME="+helmHome,
		"HELM_CONFIG_HOME="+helmHome, "HELM_DATA_HOME="+helmHome)
	lab := runner{b: b, dir: dir, env: testenv.Env(bin, filepath.Join(work, "cache"))}
	return fullLabFigures(lab, bin, helm, helmEnv)
}

// scaleRun measures the 50 test stacks on a kwok cluster of their own: lab's records
// live in the cluster, so the full lab's stacks would be uninstalled by this lab's apply.
func scaleRun(b *testing.B, work, bin string) []figure {
	cluster, err := testenv.StartKwok(3)
	must(b, err)
	defer cluster.Stop()
	hcl, err := scaleLab(bin, cluster.HCL())
	must(b, err)
	env := testenv.Env(bin, filepath.Join(work, "cache"))
	one := labDir(b, work, "one", fmt.Sprintf("lab \"one\" {\n  domain = \"one.local\"\n}\n\n%s\nstack %q {\n  delay = %q\n}\n",
		cluster.HCL(), stackName(0, 0), delay))
	fifty := labDir(b, work, "fifty", hcl)
	return scaleFigures(runner{b: b, dir: one, env: env}, runner{b: b, dir: fifty, env: env}, filepath.Join(bin, "lab"))
}

// labDir writes a lab.hcl into a new folder of work.
func labDir(b *testing.B, work, name, hcl string) string {
	dir := filepath.Join(work, name)
	must(b, os.MkdirAll(dir, 0o755))
	must(b, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o644))
	return dir
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
