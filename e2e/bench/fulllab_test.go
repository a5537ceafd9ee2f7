package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nexolab/lab/core/sdk"
)

// stacks are the six first-party stacks of the full lab.
var stacks = []string{"ingress", "argocd", "monitoring", "logging", "harbor", "nexo-apps"}

// fullLab is the team's whole lab on the bench cluster: the six stacks with their real
// upstream charts from repo (nexo-apps' charts are embedded in its plugin).
func fullLab(clusterHCL, repo string) string {
	chart := func(name string) string { return fmt.Sprintf("  chart %q {\n    repository = %q\n  }\n", name, repo) }
	return "lab \"bench\" {\n  domain = \"bench.local\"\n}\n\n" + clusterHCL +
		"\nstack \"ingress\" {\n  controller = \"nginx\"\n" + chart("ingress-nginx") + "}\n" +
		"\nstack \"argocd\" {\n" + chart("argo-cd") + "}\n" +
		"\nstack \"monitoring\" {\n" + chart("kube-prometheus-stack") + "}\n" +
		"\nstack \"logging\" {\n" + chart("eck-operator") + chart("eck-stack") + "}\n" +
		"\nstack \"harbor\" {\n" + chart("harbor") + "}\n" +
		"\nstack \"nexo-apps\" {\n}\n"
}

// fullLabFigures measures P1 and P5 on the full lab: a cold apply (each plugin's peak
// RSS), then validate, plan and no-op apply (time and the host's peak RSS), then the helm
// CLI upgrading the same releases with the values lab renders, one after another.
func fullLabFigures(lab runner, bin, helm string, helmEnv []string) []figure {
	progress("cold apply of the full lab")
	cold, _, _, log := lab.output(filepath.Join(bin, "lab"), "apply", "--log-level", "debug")
	peaks := pluginPeaks(log)
	figs := []figure{{name: "cold lab apply, full lab", lab: ms(cold), unit: "ms", runs: 1}}
	for _, s := range stacks {
		if peaks[s] == 0 {
			lab.b.Fatalf("no peak_rss_kib of plugin %s in lab's debug log", s)
		}
		figs = append(figs, figure{name: "P5 plugin peak RSS, cold install: " + s, lab: kibToMiB(peaks[s]), unit: "MiB", runs: 1, goal: 80})
	}

	const n = 7
	host := func(args ...string) (float64, float64) {
		var times, rss []float64
		for range n {
			d, r := lab.run(filepath.Join(bin, "lab"), args...)
			times, rss = append(times, ms(d)), append(rss, r)
		}
		return median(times), median(rss)
	}
	progress("validate, plan and no-op apply of the full lab, %d runs each", n)
	validate, validateRSS := host("validate")
	plan, planRSS := host("plan")
	noop, noopRSS := host("apply")

	releases := rendered(lab, bin)
	progress("helm upgrade --install of the %d releases, 3 runs", len(releases))
	loop := medianMS(3, func() time.Duration {
		var total time.Duration
		for _, r := range releases {
			total += helmUpgrade(lab, helm, helmEnv, r)
		}
		return total
	})
	return append([]figure{
		{name: "P1 no-op lab apply, full lab (6 stacks, real charts)", lab: noop, unit: "ms", runs: n, goal: 100,
			peerName: fmt.Sprintf("helm upgrade --install of its %d releases in turn", len(releases)), peer: loop, minRatio: 50},
		{name: "P1 lab validate, warm (the floor)", lab: validate, unit: "ms", runs: n, peerName: "no-op apply", peer: noop},
		{name: "lab plan, full lab", lab: plan, unit: "ms", runs: n},
		{name: "P5 host peak RSS: validate", lab: validateRSS, unit: "MiB", runs: n, goal: 80},
		{name: "P5 host peak RSS: plan", lab: planRSS, unit: "MiB", runs: n, goal: 80},
		{name: "P5 host peak RSS: no-op apply", lab: noopRSS, unit: "MiB", runs: n, goal: 80},
	}, figs...)
}

// rendered is every release of the full lab, with the values lab gives its chart.
func rendered(lab runner, bin string) []sdk.RenderedChart {
	var all []sdk.RenderedChart
	for _, s := range stacks {
		_, _, out, _ := lab.output(filepath.Join(bin, "lab"), "render", s, "-o", "json")
		var charts []sdk.RenderedChart
		if err := json.Unmarshal(out, &charts); err != nil {
			lab.b.Fatalf("lab render %s -o json: %v\n%s", s, err, out)
		}
		all = append(all, charts...)
	}
	return all
}

// helmUpgrade runs the helm CLI on one release: from its chart repository, or from the
// folder a local chart is in (nexo-apps unpacks its embedded charts into lab's cache).
func helmUpgrade(lab runner, helm string, env []string, r sdk.RenderedChart) time.Duration {
	values := filepath.Join(lab.b.TempDir(), r.Release+".yaml")
	if err := os.WriteFile(values, []byte(r.ValuesYAML), 0o600); err != nil {
		lab.b.Fatal(err)
	}
	chart, source := filepath.Join(r.Repository, r.Chart), []string{}
	if strings.Contains(r.Repository, "://") {
		chart, source = r.Chart, []string{"--repo", r.Repository, "--version", r.Version}
	}
	args := append([]string{"upgrade", "--install", r.Release, chart, "--namespace", r.Namespace, "-f", values}, source...)
	d, _ := runner{b: lab.b, dir: lab.dir, env: env}.run(helm, args...)
	return d
}
