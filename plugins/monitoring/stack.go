package monitoring

import (
	"context"
	"fmt"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helmstack"
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
}

type session = helmstack.Session[Config]

// stackName is the stack's name, in lab.hcl and on the objects it owns.
const stackName = "monitoring"

// Stack is the kit's stack with an Install that reads dashboards_dir first.
type Stack struct{ *helmstack.Stack[Config] }

// The README's quota of the monitoring namespace. Containers that set no
// resources (a chart's test pod) get the small defaults.
var quota = kube.Quota{RequestsCPU: "1", RequestsMemory: "2Gi", LimitsCPU: "3", LimitsMemory: "6Gi",
	DefaultRequestCPU: "10m", DefaultRequestMemory: "32Mi", DefaultLimitCPU: "100m", DefaultLimitMemory: "128Mi"}

// New returns the monitoring stack.
func New() *Stack {
	fixed, perNode := kube.FootprintOf(containers)
	return &Stack{helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{
			Name:             stackName,
			Version:          Version,
			Description:      "Prometheus, Alertmanager and Grafana (kube-prometheus-stack) with node-exporter, kube-state-metrics, lab alert rules and dashboards",
			DependsOn:        []string{"ingress"},
			Namespaces:       []string{"monitoring"},
			Footprint:        fixed,
			FootprintPerNode: perNode,
			Dashboards:       map[string]string{"grafana": "grafana", "prometheus": "prometheus", "alertmanager": "alertmanager"},
		},
		Defaults: func() *Config {
			return &Config{Namespace: "monitoring", Retention: "10d", StorageSize: "10Gi", StorageClass: "local-path",
				DashboardsFolder: "Lab", GrafanaPersistence: true}
		},
		Validate: validate,
		// The namespace holds the volumes of Prometheus and Grafana and the admin Secret
		// Grafana's database keeps using.
		Namespaces: func(cfg *Config) []helmstack.Namespace {
			return []helmstack.Namespace{{Name: cfg.Namespace, Quota: &quota, Data: true}}
		},
		Prepare:  prepare,
		Releases: func(s *session) ([]helm.Release, error) { return []helm.Release{release(s)}, nil },
		After:    after,
		Rollouts: []helmstack.Rollout{
			{Check: "operator rollout", Name: operatorName},
			{Check: "grafana rollout", Name: "grafana"},
			{Check: "kube-state-metrics rollout", Name: "kube-state-metrics"},
			{Check: "node-exporter", Name: "prometheus-node-exporter"},
		},
		Checks:    checks,
		Endpoints: endpoints,
		Objects: []helmstack.ObjectSet{{File: configMapsFile, Kind: "ConfigMap", GVR: configMaps,
			Selector: kube.StackLabel + "=" + stackName + "," + dashboardLabel}},
		Data: &helmstack.Data[Config]{Backup: backupData, Restore: restoreData},
		// Helm never deletes the CRDs of a chart's crds/ folder; with them would go every
		// ServiceMonitor, PodMonitor and PrometheusRule of every stack.
		CRDGroups: []string{"monitoring.coreos.com"},
		Teardown:  removeWebhookSecret,
		Summary:   summary,
	})}
}

// Install reads dashboards_dir before anything changes: a bad file stops it, named with
// its line and column. (Not in Validate: the host caches Validate's answer by the config,
// not by the files a path attribute names.)
func (st *Stack) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	if cfg, ok := req.Config.(*Config); ok {
		boards, err := loadDashboards(cfg.DashboardsDir)
		if err != nil {
			return nil, err
		}
		for _, b := range boards {
			if b.inputs {
				req.Warn("dashboards", "%s was exported for sharing (it has __inputs): its ${DS_...} data source variables are not resolved when provisioned; export it without \"Export for sharing externally\"", b.file)
			}
		}
	}
	return st.Stack.Install(ctx, req)
}

// prepare makes what the values refer to: Grafana's admin login and the webhook Secret.
func prepare(ctx context.Context, s *session) error {
	if s.DryRun {
		return nil
	}
	if _, err := s.Credential(ctx, "grafana", s.Config.Namespace, adminSecret, grafanaURL(s), adminUser); err != nil {
		return err
	}
	_, err := ensureWebhookSecret(ctx, s)
	return err
}

// after applies the dashboards' ConfigMaps and the lab's alert rules (a PrometheusRule,
// a kind of the chart's CRDs).
func after(ctx context.Context, s *session) (bool, error) {
	boards, err := loadDashboards(s.Config.DashboardsDir)
	if err != nil {
		return false, err
	}
	n, err := applyDashboards(ctx, s, boards)
	if err != nil {
		return false, err
	}
	s.Values["dashboards"] = len(boards)
	s.Req.Emit("alert rules", "PrometheusRule %s/%s", s.Config.Namespace, rulesName)
	changed, err := s.Apply(ctx, rulesObject(s.Config.Namespace))
	return changed || n > 0, err
}

func grafanaURL(s *session) string { return "http://" + s.Host("grafana") }

func endpoints(s *session) []sdk.Endpoint {
	return []sdk.Endpoint{
		{Name: "grafana", URL: grafanaURL(s)},
		{Name: "prometheus", URL: "http://" + s.Host("prometheus")},
		{Name: "alertmanager", URL: "http://" + s.Host("alertmanager")},
	}
}

func summary(s *session, rels []sdk.Release) string {
	return fmt.Sprintf("Prometheus, Alertmanager and Grafana installed (release %s revision %d); %d lab dashboards; Grafana at %s",
		rels[0].Name, rels[0].Revision, s.Values["dashboards"], grafanaURL(s))
}
