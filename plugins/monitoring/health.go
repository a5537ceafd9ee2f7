package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// checks are the stack's own checks, after the kit's rollouts of the chart's workloads.
func checks(ctx context.Context, s *session, h *sdk.Health) {
	ns := s.Config.Namespace
	for _, k := range operated {
		checkOperated(ctx, s.Kube, h, ns, k, s.Simulated())
	}
	checkRules(ctx, s.Kube, h, ns)
	checkDashboards(ctx, s, h)
	if s.Simulated() {
		h.SkipSimulated("prometheus targets", "")
		h.SkipSimulated("grafana api", "")
		return
	}
	checkTargets(ctx, s.Kube, h, ns)
	checkGrafana(ctx, s.Kube, h, ns)
}

// operatedKind is a custom resource prometheus-operator turns into a StatefulSet.
type operatedKind struct {
	check, kind string
	gvr         schema.GroupVersionResource
	name        string
	// prefix of the StatefulSet the operator names after the resource
	prefix string
}

var operated = []operatedKind{
	{check: "prometheus", kind: "Prometheus", name: promName, prefix: "prometheus-",
		gvr: schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}},
	{check: "alertmanager", kind: "Alertmanager", name: amName, prefix: "alertmanager-",
		gvr: schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "alertmanagers"}},
}

// checkOperated reads the custom resource's status, as the operator reports it, and the
// StatefulSet the operator made from it. A simulated cluster runs no operator: there the
// check only tells whether the resource exists, and is skipped.
func checkOperated(ctx context.Context, c *kube.Client, h *sdk.Health, ns string, k operatedKind, simulated bool) {
	obj, err := c.Dynamic.Resource(k.gvr).Namespace(ns).Get(ctx, k.name, metav1.GetOptions{})
	switch {
	case kube.IgnoreNotFound(err) != nil:
		h.Add(k.check, sdk.Unhealthy, "%v", err)
		return
	case err != nil: // the resource, or its CRD, is not there
		h.Add(k.check, sdk.Unhealthy, "%s %s/%s is missing", k.kind, ns, k.name)
		return
	case simulated:
		h.SkipSimulated(k.check, fmt.Sprintf("%s %s/%s exists; no operator makes its StatefulSet %s%s",
			k.kind, ns, k.name, k.prefix, k.name))
		return
	}
	status, msg := conditionsOf(obj)
	w, err := c.Workload(ctx, "StatefulSet", ns, k.prefix+k.name)
	switch {
	case err != nil:
		status, msg = sdk.Unhealthy, msg+"; "+err.Error()
	case !w.Found:
		status, msg = sdk.Unhealthy, msg+fmt.Sprintf("; StatefulSet %s/%s%s is missing", ns, k.prefix, k.name)
	case !w.Done:
		status, msg = sdk.Worse(status, sdk.Unhealthy), msg+"; "+w.String()+" (rollout not finished)"
	default:
		msg += "; " + w.String()
	}
	h.Add(k.check, status, "%s", msg)
}

// conditionsOf judges the Available and Reconciled conditions prometheus-operator sets on
// a Prometheus or Alertmanager (status True, False or, for Available, Degraded).
func conditionsOf(obj *unstructured.Unstructured) (sdk.Status, string) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	byType := map[string]map[string]any{}
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			t, _ := m["type"].(string)
			byType[t] = m
		}
	}
	if len(byType) == 0 {
		return sdk.Unhealthy, "the operator has not reported on it (no status.conditions)"
	}
	status, parts := sdk.Healthy, []string{}
	for _, t := range []string{"Available", "Reconciled"} {
		cond := byType[t]
		if cond == nil {
			status = sdk.Worse(status, sdk.Unhealthy)
			parts = append(parts, t+" not reported")
			continue
		}
		s, _ := cond["status"].(string)
		reason, _ := cond["reason"].(string)
		message, _ := cond["message"].(string)
		detail := strings.TrimSpace(strings.Trim(reason+": "+message, ": "))
		switch {
		case s == "True":
			parts = append(parts, t)
		case s == "Degraded":
			status = sdk.Worse(status, sdk.Degraded)
			parts = append(parts, t+" degraded: "+detail)
		default:
			status = sdk.Worse(status, sdk.Unhealthy)
			parts = append(parts, "not "+t+": "+detail)
		}
		if og, ok, _ := unstructured.NestedInt64(cond, "observedGeneration"); ok && og < obj.GetGeneration() {
			status = sdk.Worse(status, sdk.Degraded)
			parts = append(parts, fmt.Sprintf("%s is of generation %d, the spec is at %d", t, og, obj.GetGeneration()))
		}
	}
	return status, strings.Join(parts, ", ")
}

func checkRules(ctx context.Context, c *kube.Client, h *sdk.Health, ns string) {
	obj, err := c.Dynamic.Resource(prometheusRules).Namespace(ns).Get(ctx, rulesName, metav1.GetOptions{})
	if err != nil {
		if kube.IgnoreNotFound(err) == nil {
			h.Add("alert rules", sdk.Unhealthy, "PrometheusRule %s/%s is missing", ns, rulesName)
		} else {
			h.Add("alert rules", sdk.Unhealthy, "%v", err)
		}
		return
	}
	h.Add("alert rules", sdk.Healthy, "PrometheusRule %s/%s with %s", ns, rulesName, strings.Join(alertNames(obj), ", "))
}

// alertNames lists the alerts of a PrometheusRule.
func alertNames(obj *unstructured.Unstructured) []string {
	var names []string
	groups, _, _ := unstructured.NestedSlice(obj.Object, "spec", "groups")
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			if a, ok := r.(map[string]any)["alert"].(string); ok {
				names = append(names, a)
			}
		}
	}
	return names
}

// chartDashboards are the ConfigMaps of the chart's dashboards that the lab
// promises (cluster, nodes, pods, volumes), as the chart calls them.
var chartDashboards = []string{"k8s-resources-cluster", "nodes", "k8s-resources-pod", "persistentvolumesusage"}

func checkDashboards(ctx context.Context, s *session, h *sdk.Health) {
	c, ns := s.Kube, s.Config.Namespace
	var missing []string
	for _, d := range chartDashboards {
		name := releaseName + "-" + d
		cm, err := c.Kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil || cm.Labels[dashboardLabel] != dashboardValue {
			missing = append(missing, name)
		}
	}
	own, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: ownDashboards(s)})
	if err != nil {
		h.Add("dashboards", sdk.Unhealthy, "%v", err)
		return
	}
	if len(missing) > 0 {
		h.Add("dashboards", sdk.Unhealthy, "dashboard ConfigMaps missing: %s", strings.Join(missing, ", "))
		return
	}
	h.Add("dashboards", sdk.Healthy, "the %d chart dashboards (folder %s) and %d of the lab", len(chartDashboards), kubeFolder, len(own.Items))
}

// checkTargets asks Prometheus, through the API server's service proxy, for its scrape
// targets and names those that are down.
func checkTargets(ctx context.Context, c *kube.Client, h *sdk.Health, ns string) {
	b, err := c.ProbeService(ctx, ns, promName, webPort, "/api/v1/targets")
	if err != nil {
		h.Add("prometheus targets", sdk.Unhealthy, "%v", err)
		return
	}
	st, msg := judgeTargets(b)
	h.Add("prometheus targets", st, "%s", msg)
}

type targetsResponse struct {
	Status string `json:"status"`
	Data   struct {
		ActiveTargets []struct {
			Labels     map[string]string `json:"labels"`
			ScrapePool string            `json:"scrapePool"`
			ScrapeURL  string            `json:"scrapeUrl"`
			Health     string            `json:"health"`
			LastError  string            `json:"lastError"`
		} `json:"activeTargets"`
	} `json:"data"`
}

// judgeTargets reads a /api/v1/targets answer.
func judgeTargets(b []byte) (sdk.Status, string) {
	var r targetsResponse
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		return sdk.Unhealthy, fmt.Sprintf("unexpected answer from /api/v1/targets: %.200s", b)
	}
	var down []string
	up, unknown := 0, 0
	for _, t := range r.Data.ActiveTargets {
		switch t.Health {
		case "up":
			up++
		case "down":
			down = append(down, fmt.Sprintf("%s %s (%s)", t.Labels["job"], t.ScrapeURL, t.LastError))
		default:
			unknown++
		}
	}
	total := len(r.Data.ActiveTargets)
	switch {
	case total == 0:
		return sdk.Degraded, "Prometheus has no active targets"
	case len(down) > 0:
		sort.Strings(down)
		return sdk.Degraded, fmt.Sprintf("%d of %d targets down: %s", len(down), total, strings.Join(down, "; "))
	case up == 0:
		return sdk.Degraded, fmt.Sprintf("none of %d targets scraped yet", total)
	}
	msg := fmt.Sprintf("%d targets up", up)
	if unknown > 0 {
		msg += fmt.Sprintf(", %d not scraped yet", unknown)
	}
	return sdk.Healthy, msg
}

// checkGrafana asks Grafana's /api/health through the API server's service proxy.
func checkGrafana(ctx context.Context, c *kube.Client, h *sdk.Health, ns string) {
	b, err := c.ProbeService(ctx, ns, grafanaName, webPort, "/api/health")
	if err != nil {
		h.Add("grafana api", sdk.Unhealthy, "%v", err)
		return
	}
	var r struct {
		Database string `json:"database"`
		Version  string `json:"version"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		h.Add("grafana api", sdk.Unhealthy, "unexpected answer from /api/health: %.200s", b)
		return
	}
	if r.Database != "ok" {
		h.Add("grafana api", sdk.Unhealthy, "Grafana %s: database %q", r.Version, r.Database)
		return
	}
	h.Add("grafana api", sdk.Healthy, "Grafana %s answers, database ok", r.Version)
}
