package monitoring

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
)

// The label (and value) Grafana's dashboards sidecar looks for, in every namespace: the
// chart's defaults, grafana.sidecar.dashboards.label and labelValue.
const (
	dashboardLabel = "grafana_dashboard"
	dashboardValue = "1"
	// maxDashboard keeps a dashboard's ConfigMap under the 1 MiB an object may hold.
	maxDashboard = 1000 * 1024
)

// dashboard is one dashboard JSON file of dashboards_dir, checked.
type dashboard struct {
	file  string // base name, for messages
	key   string // the ConfigMap key, the file name the sidecar writes
	cm    string // the ConfigMap's name
	title string
	uid   string
	json  []byte
	// inputs is true for a dashboard exported "for sharing externally"
	inputs bool
}

// loadDashboards reads and checks every *.json file of dir (not its subfolders). An error
// names the file and, for a syntax error, its line and column.
func loadDashboards(dir string) ([]dashboard, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dashboards_dir: %w", err)
	}
	var out []dashboard
	uids := map[string]string{}
	names := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("dashboards_dir: %w", err)
		}
		d, err := parseDashboard(e.Name(), b)
		if err != nil {
			return nil, fmt.Errorf("dashboards_dir: %s: %w", path, err)
		}
		if d.uid != "" {
			if other, ok := uids[d.uid]; ok {
				return nil, fmt.Errorf("dashboards_dir: %s and %s have the same uid %q; Grafana keeps only one", other, e.Name(), d.uid)
			}
			uids[d.uid] = e.Name()
		}
		if other, ok := names[d.cm]; ok {
			return nil, fmt.Errorf("dashboards_dir: %s and %s map to the same name %s; rename one", other, e.Name(), d.cm)
		}
		names[d.cm] = e.Name()
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cm < out[j].cm })
	return out, nil
}

func parseDashboard(file string, b []byte) (dashboard, error) {
	d := dashboard{file: file, key: keyOf(file), cm: "lab-dashboard-" + slug(strings.TrimSuffix(file, filepath.Ext(file)))}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(b, syn.Offset-1) // Offset is just past the bad byte
			return d, fmt.Errorf("not valid JSON at line %d, column %d: %v", line, col, err)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return d, fmt.Errorf("not a dashboard: the file holds a JSON %s, not an object", typ.Value)
		}
		return d, fmt.Errorf("not valid JSON: %w", err)
	}
	// The HTTP API's form ({"dashboard": {...}, "meta": {...}}), as a backup or a
	// download of /api/dashboards/uid/<uid> has it, holds the dashboard inside.
	if inner, ok := obj["dashboard"].(map[string]any); ok {
		obj = inner
		var err error
		if b, err = json.Marshal(obj); err != nil {
			return d, err
		}
	}
	title, _ := obj["title"].(string)
	if strings.TrimSpace(title) == "" {
		return d, errors.New(`not a dashboard: it has no "title"`)
	}
	if _, ok := obj["panels"]; !ok {
		if _, rows := obj["rows"]; !rows {
			return d, errors.New(`not a dashboard: it has no "panels"`)
		}
	}
	d.title = title
	d.uid, _ = obj["uid"].(string)
	_, d.inputs = obj["__inputs"]
	if len(b) > maxDashboard {
		return d, fmt.Errorf("%d bytes: a dashboard's ConfigMap holds at most %d", len(b), maxDashboard)
	}
	d.json = b
	return d, nil
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, offset int64) (int, int) {
	offset = min(max(offset, 0), int64(len(b)))
	before := b[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

var notName = regexp.MustCompile(`[^a-z0-9-]+`)

// slug makes a DNS name part from a file name; long or emptied names get a hash suffix.
func slug(s string) string {
	out := strings.Trim(notName.ReplaceAllString(strings.ToLower(s), "-"), "-")
	const max = 63 - len("lab-dashboard-")
	if out == "" || len(out) > max || out != strings.ToLower(s) {
		sum := sha256.Sum256([]byte(s))
		h := hex.EncodeToString(sum[:4])
		if len(out) > max-9 {
			out = strings.TrimRight(out[:max-9], "-")
		}
		if out == "" {
			return h
		}
		return out + "-" + h
	}
	return out
}

var notKey = regexp.MustCompile(`[^-._a-zA-Z0-9]+`)

// keyOf makes a ConfigMap key (the file name in Grafana's pod) from a file name.
func keyOf(file string) string {
	k := notKey.ReplaceAllString(file, "_")
	if !strings.HasSuffix(strings.ToLower(k), ".json") {
		k += ".json"
	}
	return k
}

// dashboardConfigMap is the ConfigMap of one dashboard, in a Grafana folder.
func dashboardConfigMap(ns, folder string, d dashboard) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":        d.cm,
			"namespace":   ns,
			"labels":      map[string]any{dashboardLabel: dashboardValue},
			"annotations": map[string]any{folderAnnotation: folder, "lab.nexolab.dev/source": d.file},
		},
		"data": map[string]any{d.key: string(d.json)},
	}}
}

// ownDashboards selects the dashboard ConfigMaps the stack made.
func ownDashboards(s *session) string {
	return kube.StackLabel + "=" + s.Stack() + "," + dashboardLabel
}

// applyDashboards makes a ConfigMap of the lab's overview and of every dashboard of
// dashboards_dir, and deletes those of files no longer there. It returns how many
// ConfigMaps it created, changed or deleted.
func applyDashboards(ctx context.Context, s *session, boards []dashboard) (int, error) {
	cfg := s.Config
	keep := map[string]bool{}
	n := 0
	for _, d := range append([]dashboard{overview(s)}, boards...) {
		keep[d.cm] = true
		ch, err := s.Apply(ctx, dashboardConfigMap(cfg.Namespace, cfg.DashboardsFolder, d))
		if err != nil {
			return n, fmt.Errorf("dashboard %s: %w", d.file, err)
		}
		if ch {
			n++
		}
	}
	s.Req.Emit("dashboards", "%d dashboards of %s in Grafana folder %q", len(boards), orNone(cfg.DashboardsDir), cfg.DashboardsFolder)
	list, err := s.Kube.Kube.CoreV1().ConfigMaps(cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: ownDashboards(s)})
	if err != nil {
		return n, err
	}
	for _, cm := range list.Items {
		if keep[cm.Name] {
			continue
		}
		if _, err := s.Kube.Delete(ctx, configMaps, cfg.Namespace, cm.Name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func orNone(dir string) string {
	if dir == "" {
		return "dashboards_dir (not set)"
	}
	return dir
}

// The four dashboards the lab promises are dashboards the chart ships; these
// are their titles and uids in kube-prometheus-stack 88.5.3.
var architectureDashboards = []struct{ Doc, Title, UID string }{
	{"Kubernetes cluster monitoring", "Kubernetes / Compute Resources / Cluster", "efa86fd1d0c121a26444b636a3f509a8"},
	{"Node Exporter full", "Node Exporter / Nodes", "7d57716318ee0dddbac5a7f451fb7753"},
	{"Pod resource usage", "Kubernetes / Compute Resources / Pod", "6581e46e4e5c7ba40a07646395ef7b23"},
	{"Persistent volumes", "Kubernetes / Persistent Volumes", "919b92a8e8041bd567af9edab12c840c"},
}

const (
	overviewUID = "lab-overview"
	overviewKey = "lab-overview.json"
)

// overview is the lab's own dashboard: where to find the lab's
// dashboards, the other UIs, and the user's dashboards.
func overview(s *session) dashboard {
	cfg, lab := s.Config, s.Req.Lab
	var md strings.Builder
	md.WriteString("### Dashboards of the lab\n\n| Architecture document | Grafana dashboard (folder " + kubeFolder + ") |\n|---|---|\n")
	for _, d := range architectureDashboards {
		fmt.Fprintf(&md, "| %s | [%s](/d/%s) |\n", d.Doc, d.Title, d.UID)
	}
	fmt.Fprintf(&md, "\nThe chart's other dashboards are in the folder **%s**; the dashboards of `dashboards_dir` in **%s**.\n\n", kubeFolder, cfg.DashboardsFolder)
	fmt.Fprintf(&md, "Prometheus: http://%s — Alertmanager: http://%s\n", s.Host("prometheus"), s.Host("alertmanager"))
	board := map[string]any{
		"title":         "Lab overview",
		"uid":           overviewUID,
		"tags":          []any{"lab"},
		"editable":      false,
		"schemaVersion": 39,
		"time":          map[string]any{"from": "now-1h", "to": "now"},
		"panels": []any{
			map[string]any{
				"id": 1, "type": "text", "title": "Lab " + lab.Name,
				"gridPos": map[string]any{"h": 12, "w": 24, "x": 0, "y": 0},
				"options": map[string]any{"mode": "markdown", "content": md.String()},
			},
			map[string]any{
				"id": 2, "type": "alertlist", "title": "Firing alerts",
				"gridPos": map[string]any{"h": 10, "w": 24, "x": 0, "y": 12},
				"options": map[string]any{"showOptions": "current", "maxItems": 20, "stateFilter": map[string]any{"firing": true, "pending": true}},
			},
		},
	}
	b, _ := json.Marshal(board)
	return dashboard{file: overviewKey, key: overviewKey, cm: "lab-dashboard-overview", title: "Lab overview", uid: overviewUID, json: b}
}
