// Package bench measures lab on a kwok cluster and prints one table: plugin launch and
// handshake, validate, cold apply, no-op apply, and the no-op apply against the helm loop
// a user would otherwise run (helm upgrade --install of the same release). Run: make bench.
package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nexolab/lab/core/cluster/kwok"
	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/testenv"
)

const runs = 10

func BenchmarkLab(b *testing.B) {
	work := b.TempDir()
	bin := filepath.Join(work, "bin")
	must(b, testenv.Build(bin, "plugins/ingress", "plugins/argocd", "plugins/monitoring"))
	helm := filepath.Join(kwok.DefaultBinDir(), "helm")
	if _, err := os.Stat(helm); err != nil {
		b.Fatalf("helm is missing: run tools/testcluster/build.sh helm")
	}
	charts, stop, err := testenv.ServeCharts(filepath.Join(work, "charts"), "ingress-nginx", "argo-cd", "kube-prometheus-stack")
	must(b, err)
	defer stop()
	cluster, err := testenv.StartKwok(3)
	must(b, err)
	defer cluster.Stop()

	dir := filepath.Join(work, "lab")
	must(b, os.MkdirAll(dir, 0o755))
	env := testenv.Env(bin, filepath.Join(work, "cache"))
	hcl := fmt.Sprintf("lab \"bench\" {\n  domain = \"bench.local\"\n}\n%s\nstack \"ingress\" {\n  chart \"ingress-nginx\" {\n    repository = %q\n  }\n}\n",
		cluster.HCL(), charts)
	must(b, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o644))
	lab := func(args ...string) time.Duration { return timed(b, dir, env, filepath.Join(bin, "lab"), args...) }

	launch := average(func() time.Duration { return launchOnce(b, bin) })
	lab("validate") // the first validate launches the plugin once and caches its schema
	validate := average(func() time.Duration { return lab("validate") })
	cold := lab("apply")
	noop := average(func() time.Duration { return lab("apply") })

	helmEnv := append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig, "HELM_CACHE_HOME="+filepath.Join(work, "helm"),
		"HELM_CONFIG_HOME="+filepath.Join(work, "helm"), "HELM_DATA_HOME="+filepath.Join(work, "helm"))
	helmUpgrade := func(r release) time.Duration {
		values := filepath.Join(work, r.release+".yaml")
		must(b, os.WriteFile(values, []byte(renderedValues(b, dir, env, bin, r.stack)), 0o644))
		return timed(b, dir, helmEnv, helm, "upgrade", "--install", r.release, r.chart,
			"--repo", charts, "--version", r.version, "--namespace", r.namespace, "-f", values)
	}
	helmLoop := average(func() time.Duration { return helmUpgrade(releases[0]) })

	// The three stacks of issue 4: lab's no-op against helm upgrading the three releases.
	all := hcl
	for _, r := range releases[1:] {
		all += fmt.Sprintf("stack %q {\n  chart %q {\n    repository = %q\n  }\n}\n", r.stack, r.chart, charts)
	}
	must(b, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(all), 0o644))
	lab("apply", "--refresh") // brings the ingress back to lab's values, installs the others
	noop3 := average(func() time.Duration { return lab("apply") })
	helmLoop3 := average(func() time.Duration {
		var total time.Duration
		for _, r := range releases {
			total += helmUpgrade(r)
		}
		return total
	})

	fmt.Printf("\nlab on a kwok cluster (3 nodes), ingress stack, charts from a local repository\n")
	fmt.Printf("  %-52s %8s\n", "plugin launch + handshake + Info (AutoMTLS), avg", ms(launch))
	fmt.Printf("  %-52s %8s\n", "lab validate (schemas cached), avg", ms(validate))
	fmt.Printf("  %-52s %8s\n", "cold lab apply", ms(cold))
	fmt.Printf("  %-52s %8s\n", "no-op lab apply, avg", ms(noop))
	fmt.Printf("  %-52s %8s\n", "helm upgrade --install of the same release, avg", ms(helmLoop))
	fmt.Printf("  %-52s %7.1fx\n", "no-op apply is faster than the helm loop by", float64(helmLoop)/float64(noop))
	fmt.Printf("ingress, argocd and monitoring (3 releases)\n")
	fmt.Printf("  %-52s %8s\n", "no-op lab apply, avg", ms(noop3))
	fmt.Printf("  %-52s %8s\n", "helm upgrade --install of the 3 releases in turn, avg", ms(helmLoop3))
	fmt.Printf("  %-52s %7.1fx\n\n", "no-op apply is faster than the helm loop by", float64(helmLoop3)/float64(noop3))
	b.ReportMetric(float64(noop.Milliseconds()), "noop-apply-ms")
	b.ReportMetric(float64(helmLoop3)/float64(noop3), "x-faster-than-helm-3-releases")
}

func launchOnce(b *testing.B, bin string) time.Duration {
	h := pluginhost.New(pluginhost.Options{Dirs: []string{bin}})
	defer h.Close()
	start := time.Now()
	if _, err := h.Launch(context.Background(), "ingress"); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// release is one stack's chart, as helm would upgrade it.
type release struct{ stack, release, chart, version, namespace string }

var releases = []release{
	{"ingress", "ingress-nginx", "ingress-nginx", "4.15.1", "ingress"},
	{"argocd", "argocd", "argo-cd", "10.1.1", "argocd"},
	{"monitoring", "kube-prometheus-stack", "kube-prometheus-stack", "88.5.3", "monitoring"},
}

// renderedValues is what lab would give a stack's chart: the values helm gets too.
func renderedValues(b *testing.B, dir string, env []string, bin, stack string) string {
	cmd := exec.Command(filepath.Join(bin, "lab"), "render", stack)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	must(b, err)
	return string(out)
}

func timed(b *testing.B, dir string, env []string, name string, args ...string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return time.Since(start)
}

func average(f func() time.Duration) time.Duration {
	var total time.Duration
	for range runs {
		total += f()
	}
	return total / runs
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

func must(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}
