package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Version of this plugin.
var Version = "0.1.0"

// Config is the monitoring block of lab.hcl.
type Config struct {
	Namespace           string `hcl:"namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace of the monitoring stack"`
	Retention           string `hcl:"retention" pattern:"^([0-9]+(y|w|d|h|m|s|ms))+$" doc:"how long Prometheus keeps samples, a Prometheus duration such as 10d or 12h"`
	StorageSize         string `hcl:"storage_size" pattern:"^[0-9]+(\\.[0-9]+)?(Mi|Gi|Ti)$" doc:"size of Prometheus' volume (a PVC on storage_class, in the lab's data folder on k3d); retention also stops at 85% of it"`
	StorageClass        string `hcl:"storage_class" doc:"StorageClass of the Prometheus and Grafana volumes; k3s' local-path puts them in the lab's data folder"`
	AlertWebhookURL     string `hcl:"alert_webhook_url" sensitive:"true" pattern:"^(https?://.+)?$" doc:"URL Alertmanager posts alerts to (webhook receiver); empty sends them nowhere (null receiver). Kept in a Secret, never in Helm values"`
	DashboardsDir       string `hcl:"dashboards_dir" path:"true" doc:"folder of Grafana dashboard JSON files to load (each *.json file becomes a dashboard); relative to the folder of lab.hcl"`
	DashboardsFolder    string `hcl:"dashboards_folder" pattern:"^[^/]+$" doc:"Grafana folder of the dashboards from dashboards_dir"`
	GrafanaPersistence  bool   `hcl:"grafana_persistence" doc:"keep Grafana's database (users, dashboards made in the UI) on a 1Gi volume; off on simulated clusters"`
	BackupTSDB          bool   `hcl:"backup_tsdb" doc:"lab backup also takes a Prometheus TSDB snapshot (turns on Prometheus' admin API)"`
	ControlPlaneMetrics bool   `hcl:"control_plane_metrics" doc:"scrape kube-controller-manager, kube-scheduler, kube-proxy and etcd; leave off on k3s/k3d, which embeds them in one process with metrics on localhost only"`
	RemoveCRDs          bool   `hcl:"remove_crds" doc:"uninstall also deletes the monitoring.coreos.com CRDs, and with them every ServiceMonitor, PodMonitor and PrometheusRule of every stack"`
}

// Stack installs kube-prometheus-stack.
type Stack struct{}

// New returns the monitoring stack.
func New() *Stack { return &Stack{} }

func (*Stack) Info() sdk.Info {
	return sdk.Info{
		Name:        "monitoring",
		Version:     Version,
		Description: "Prometheus, Alertmanager and Grafana (kube-prometheus-stack) with node-exporter, kube-state-metrics, lab alert rules and dashboards",
		DependsOn:   []string{"ingress"},
		Namespaces:  []string{"monitoring"},
		Footprint:   footprint(),
		Dashboards:  map[string]string{"grafana": "grafana", "prometheus": "prometheus", "alertmanager": "alertmanager"},
	}
}

func (*Stack) Config() any {
	return &Config{Namespace: "monitoring", Retention: "10d", StorageSize: "10Gi", StorageClass: "local-path",
		DashboardsFolder: "Lab", GrafanaPersistence: true}
}

// The architecture table's quota of the monitoring namespace. Containers that set no
// resources (a chart's test pod) get the small defaults.
var quota = kube.Quota{RequestsCPU: "1", RequestsMemory: "2Gi", LimitsCPU: "3", LimitsMemory: "6Gi",
	DefaultRequestCPU: "10m", DefaultRequestMemory: "32Mi", DefaultLimitCPU: "100m", DefaultLimitMemory: "128Mi"}

var retention = regexp.MustCompile(`^([0-9]+(y|w|d|h|m|s|ms))+$`)

// validate checks what the schema's patterns cannot, before anything changes.
func validate(cfg *Config) error {
	if !retention.MatchString(cfg.Retention) {
		return fmt.Errorf("retention %q: want a Prometheus duration such as 10d, 12h or 1w", cfg.Retention)
	}
	q, err := resource.ParseQuantity(cfg.StorageSize)
	if err != nil || q.Sign() <= 0 {
		return fmt.Errorf("storage_size %q: want a size such as 10Gi", cfg.StorageSize)
	}
	if q.Value() < 1<<30 {
		return fmt.Errorf("storage_size %q: Prometheus needs at least 1Gi", cfg.StorageSize)
	}
	if u := cfg.AlertWebhookURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("alert_webhook_url: want an http:// or https:// URL")
	}
	return nil
}

func (s *Stack) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	if err := validate(cfg); err != nil {
		return nil, err
	}
	boards, err := loadDashboards(cfg.DashboardsDir)
	if err != nil {
		return nil, err
	}
	for _, b := range boards {
		if b.inputs {
			req.Warn("dashboards", "%s was exported for sharing (it has __inputs): its ${DS_...} data source variables are not resolved when provisioned; export it without \"Export for sharing externally\"", b.file)
		}
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	req.Emit("namespace", "namespace %s with its quota", cfg.Namespace)
	if err := c.EnsureNamespace(ctx, cfg.Namespace, &quota); err != nil {
		return nil, err
	}
	changed := false
	cred, err := c.EnsureCredential(ctx, stackName(req), "grafana", cfg.Namespace, adminSecret, grafanaURL(req), adminUser)
	if err != nil {
		return nil, err
	}
	req.Emit("credentials", "Grafana admin %q in Secret %s/%s", cred.Username, cred.Namespace, cred.Secret)
	ch, err := ensureWebhookSecret(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	changed = changed || ch
	n, err := applyDashboards(ctx, c, req, cfg, boards)
	if err != nil {
		return nil, err
	}
	changed = changed || n > 0
	rel, err := c.Apply(ctx, req, release(cfg, req))
	if err != nil {
		return nil, err
	}
	changed = changed || rel.Changed
	req.Emit("alert rules", "PrometheusRule %s/%s", cfg.Namespace, rulesName)
	ch, err = applyRules(ctx, c, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	changed = changed || ch
	return &sdk.Result{Changed: changed, Releases: []sdk.Release{rel},
		Summary: fmt.Sprintf("Prometheus, Alertmanager and Grafana installed (release %s revision %d); %d lab dashboards; Grafana at %s",
			rel.Name, rel.Revision, len(boards), grafanaURL(req))}, nil
}

// stackName is the stack's name in lab.hcl, for the credentials Secret's label.
func stackName(req *sdk.Request) string {
	if req.Stack != "" {
		return req.Stack
	}
	return "monitoring"
}

func (s *Stack) Render(_ context.Context, req *sdk.Request) ([]sdk.RenderedChart, error) {
	cfg := req.Config.(*Config)
	if err := validate(cfg); err != nil {
		return nil, err
	}
	r := release(cfg, req)
	return []sdk.RenderedChart{r.Rendered()}, nil
}

// Uninstall removes the release and the objects lab made. The namespace stays, with the
// volumes of Prometheus and Grafana and the Grafana admin Secret (Grafana's database keeps
// that password), unless the data is purged. Helm never deletes the CRDs of a chart's
// crds/ folder; they go only with remove_crds.
func (s *Stack) Uninstall(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	removed, err := c.Uninstall(ctx, releaseName, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	n, err := deleteLabObjects(ctx, c, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	changed := removed || n > 0
	summary := "monitoring removed"
	if req.PurgeData {
		if _, err := c.Kube.CoreV1().Namespaces().Get(ctx, cfg.Namespace, metav1.GetOptions{}); err == nil {
			changed = true
		}
		req.Emit("namespace", "deleting namespace %s with its volumes", cfg.Namespace)
		if err := c.DeleteNamespace(ctx, cfg.Namespace); err != nil {
			return nil, err
		}
	} else {
		summary += fmt.Sprintf("; namespace %s kept with the Prometheus and Grafana volumes and the Grafana admin Secret (purge the data to delete them)", cfg.Namespace)
	}
	if cfg.RemoveCRDs {
		k, err := deleteCRDs(ctx, c)
		if err != nil {
			return nil, err
		}
		req.Emit("crds", "deleted %d monitoring.coreos.com CRDs", k)
		summary += fmt.Sprintf("; %d CRDs deleted", k)
		changed = changed || k > 0
	} else {
		summary += "; monitoring.coreos.com CRDs kept"
	}
	return &sdk.Result{Changed: changed, Summary: summary}, nil
}
