package monitoring

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
)

// The release is named like the chart, so the chart and its subcharts give their objects
// the names their documentation shows (the chart's full name is the release name when
// the release name holds the chart's name).
const (
	releaseName  = "kube-prometheus-stack"
	operatorName = releaseName + "-operator"                 // Deployment
	promName     = releaseName + "-prometheus"               // Prometheus resource and Service
	amName       = releaseName + "-alertmanager"             // Alertmanager resource and Service
	grafanaName  = releaseName + "-grafana"                  // Deployment and Service (grafana subchart)
	ksmName      = releaseName + "-kube-state-metrics"       // Deployment (kube-state-metrics subchart)
	nodeExporter = releaseName + "-prometheus-node-exporter" // DaemonSet (prometheus-node-exporter subchart)
	webPort      = "http-web"                                // the port name of the three web Services

	adminSecret   = "lab-grafana-admin"
	adminUser     = "admin"
	webhookSecret = "lab-alertmanager-webhook"
	// kubeFolder is the Grafana folder of the chart's own dashboards.
	kubeFolder       = "Kubernetes"
	folderAnnotation = "grafana_folder"
)

var chart = helm.Chart{Repository: "https://prometheus-community.github.io/helm-charts", Name: "kube-prometheus-stack", Version: "88.5.3"}

// release is the Helm release the config asks for; the kit merges the user's chart block.
func release(s *session) helm.Release {
	return helm.Release{
		Name:        releaseName,
		Namespace:   s.Config.Namespace,
		Chart:       chart,
		Values:      values(s),
		UpgradeCRDs: true,
		// The first install pulls the images of Grafana, the operator and the admission
		// webhook's hook Jobs; the stack's own timeout still bounds it.
		Timeout: 10 * time.Minute,
	}
}

// The containers of the stack and their resources. With 3 nodes they request 460m CPU and
// 1130Mi and may use 1850m and about 3Gi, inside the namespace quota of 1 CPU/2Gi requested
// and 3 CPU/6Gi limit, leaving room for a rolling update of the Deployments and for the
// admission webhook's hook Jobs.
var (
	operatorRes   = kube.Container{Name: "prometheus-operator", Path: []string{"prometheusOperator"}, Replicas: 1, CPU: "50m", Memory: "64Mi", CPULimit: "100m", MemoryLimit: "192Mi"}
	prometheusRes = kube.Container{Name: "prometheus", Path: []string{"prometheus", "prometheusSpec"}, Replicas: 1, CPU: "200m", Memory: "512Mi", CPULimit: "750m", MemoryLimit: "1536Mi"}
	// config-reloader runs beside Prometheus and beside Alertmanager (and as their init container).
	reloaderRes     = kube.Container{Name: "config-reloader", Path: []string{"prometheusOperator", "prometheusConfigReloader"}, Replicas: 2, CPU: "10m", Memory: "25Mi", CPULimit: "50m", MemoryLimit: "50Mi"}
	alertmanagerRes = kube.Container{Name: "alertmanager", Path: []string{"alertmanager", "alertmanagerSpec"}, Replicas: 1, CPU: "20m", Memory: "48Mi", CPULimit: "100m", MemoryLimit: "128Mi"}
	grafanaRes      = kube.Container{Name: "grafana", Path: []string{"grafana"}, Replicas: 1, CPU: "100m", Memory: "192Mi", CPULimit: "300m", MemoryLimit: "512Mi"}
	// the dashboards and datasources sidecars of Grafana
	sidecarRes      = kube.Container{Name: "grafana sidecars", Path: []string{"grafana", "sidecar"}, Replicas: 2, CPU: "10m", Memory: "64Mi", CPULimit: "50m", MemoryLimit: "128Mi"}
	ksmRes          = kube.Container{Name: "kube-state-metrics", Path: []string{"kube-state-metrics"}, Replicas: 1, CPU: "20m", Memory: "64Mi", CPULimit: "100m", MemoryLimit: "128Mi"}
	nodeExporterRes = kube.Container{Name: "node-exporter", Path: []string{"prometheus-node-exporter"}, PerNode: true, CPU: "10m", Memory: "24Mi", CPULimit: "100m", MemoryLimit: "64Mi"}
	// run one at a time, before and after an install or upgrade; init containers only
	hookRes = kube.Container{Name: "admission webhook hook jobs", Path: []string{"prometheusOperator", "admissionWebhooks", "patch"}, CPU: "10m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "64Mi"}
	initRes = kube.Container{Name: "grafana init-chown-data", Path: []string{"grafana", "initChownData"}, CPU: "10m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "64Mi"}
)

var containers = []kube.Container{operatorRes, prometheusRes, reloaderRes, alertmanagerRes, grafanaRes, sidecarRes, ksmRes, nodeExporterRes, hookRes, initRes}

// retentionSize keeps Prometheus' blocks under 85% of its volume, so the WAL and a
// compaction still fit: Prometheus deletes old blocks by size as well as by age.
func retentionSize(storage string) string {
	q := resource.MustParse(storage)
	return fmt.Sprintf("%dMiB", q.Value()*85/100>>20)
}

func values(s *session) map[string]any {
	cfg, simulated, host := s.Config, s.Simulated(), s.Host

	grafana := map[string]any{
		"enabled":                  true,
		"defaultDashboardsEnabled": true,
		// No password in values: Grafana reads the admin from the Secret lab generates.
		"admin": map[string]any{"existingSecret": adminSecret, "userKey": kube.UsernameKey, "passwordKey": kube.PasswordKey},
		"ingress": map[string]any{
			"enabled": true, "hosts": []any{host("grafana")}, "path": "/",
		},
		"grafana.ini": map[string]any{
			"server":    map[string]any{"root_url": grafanaURL(s)},
			"analytics": map[string]any{"check_for_updates": false},
			// The lab's overview is Grafana's home page; the sidecar writes each dashboard to
			// <sidecar folder>/<folder annotation>/<key>.
			"dashboards": map[string]any{"default_home_dashboard_path": "/tmp/dashboards/" + cfg.DashboardsFolder + "/" + overviewKey},
		},
		"sidecar": map[string]any{
			// The chart's dashboards go to one folder, the user's to another.
			"dashboards": map[string]any{
				"annotations":      map[string]any{folderAnnotation: kubeFolder},
				"folderAnnotation": folderAnnotation,
				"provider":         map[string]any{"foldersFromFilesStructure": true},
			},
		},
	}
	// A volume needs a provisioner; a simulated cluster has none, and its claim would stay
	// Pending and keep Grafana from being scheduled.
	if cfg.GrafanaPersistence && !simulated {
		grafana["persistence"] = map[string]any{
			"enabled": true, "type": "pvc", "size": "1Gi", "storageClassName": cfg.StorageClass,
			"accessModes": []any{"ReadWriteOnce"},
		}
		// One pod at a time on the ReadWriteOnce volume and its SQLite database.
		grafana["deploymentStrategy"] = map[string]any{"type": "Recreate"}
	}

	am := map[string]any{
		"enabled": true,
		"config":  alertmanagerConfig(cfg),
		"ingress": map[string]any{"enabled": true, "hosts": []any{host("alertmanager")}, "paths": []any{"/"}},
		"alertmanagerSpec": map[string]any{
			"externalUrl": "http://" + host("alertmanager"),
		},
	}
	if cfg.AlertWebhookURL != "" {
		spec := am["alertmanagerSpec"].(map[string]any)
		// Mounted at /etc/alertmanager/secrets/<name>/ for the receiver's url_file.
		spec["secrets"] = []any{webhookSecret}
		// A new URL changes the pods' template, so Alertmanager restarts with it rather
		// than waiting on the kubelet's refresh of the mounted file.
		sum := sha256.Sum256([]byte(cfg.AlertWebhookURL))
		spec["podMetadata"] = map[string]any{"annotations": map[string]any{
			"lab.nexolab.dev/webhook-url-sha256": hex.EncodeToString(sum[:8])}}
	}

	nodeExporterValues := map[string]any{}
	if s.Req.Cluster.Provider == "k3d" {
		// k3d's nodes are containers whose / is not a shared mount: the chart's
		// HostToContainer propagation would keep node-exporter from starting.
		nodeExporterValues["hostRootFsMount"] = map[string]any{"enabled": true, "mountPropagation": "None"}
	}

	// k3s runs controller-manager, scheduler, proxy and etcd (or kine) inside the k3s
	// process, with their metrics on 127.0.0.1 only, so the chart's Services find no pods
	// and its TargetDown and *Down alerts would fire on a healthy lab. Turning a component
	// off here drops its Service, ServiceMonitor, rules and dashboard together.
	controlPlane := map[string]any{"enabled": cfg.ControlPlaneMetrics}

	v := map[string]any{
		"grafana":      grafana,
		"alertmanager": am,
		"prometheus": map[string]any{
			"enabled": true,
			"ingress": map[string]any{"enabled": true, "hosts": []any{host("prometheus")}, "paths": []any{"/"}},
			"prometheusSpec": map[string]any{
				"retention":     cfg.Retention,
				"retentionSize": retentionSize(cfg.StorageSize),
				"storageSpec": map[string]any{
					"volumeClaimTemplate": map[string]any{
						"spec": map[string]any{
							"storageClassName": cfg.StorageClass,
							"accessModes":      []any{"ReadWriteOnce"},
							"resources":        map[string]any{"requests": map[string]any{"storage": cfg.StorageSize}},
						},
					},
				},
				"externalUrl": "http://" + host("prometheus"),
				// Monitors and rules of every stack, in every namespace, whatever their labels.
				"serviceMonitorSelectorNilUsesHelmValues": false,
				"podMonitorSelectorNilUsesHelmValues":     false,
				"ruleSelectorNilUsesHelmValues":           false,
				"probeSelectorNilUsesHelmValues":          false,
				"scrapeConfigSelectorNilUsesHelmValues":   false,
				// The TSDB snapshot endpoint of a backup.
				"enableAdminAPI": cfg.BackupTSDB,
			},
		},
		"prometheusOperator": map[string]any{
			// The webhook validates PrometheusRules; on a simulated cluster no operator
			// would answer it.
			"admissionWebhooks": map[string]any{"enabled": !simulated},
		},
		"kube-state-metrics": map[string]any{
			// The lab's alert on stacks' pods finds lab namespaces by this label.
			"metricLabelsAllowlist": []any{"namespaces=[app.kubernetes.io/managed-by]"},
		},
		"prometheus-node-exporter": nodeExporterValues,
		"nodeExporter": map[string]any{
			"enabled": true,
			"operatingSystems": map[string]any{
				"linux": map[string]any{"enabled": true},
				"aix":   map[string]any{"enabled": false}, "darwin": map[string]any{"enabled": false},
			},
		},
		"kubeStateMetrics":      map[string]any{"enabled": true},
		"kubeControllerManager": controlPlane,
		"kubeScheduler":         controlPlane,
		"kubeProxy":             controlPlane,
		"kubeEtcd":              controlPlane,
	}
	kube.SetResources(v, containers)
	return v
}

// webhookFile is where Alertmanager finds the webhook URL: alertmanagerSpec.secrets mounts
// each listed Secret at /etc/alertmanager/secrets/<name>/.
const webhookFile = "/etc/alertmanager/secrets/" + webhookSecret + "/url"

// alertmanagerConfig routes every alert to the webhook, or to nowhere without one. The
// chart's Watchdog (always firing, a dead man's switch) and InfoInhibitor go nowhere.
func alertmanagerConfig(cfg *Config) map[string]any {
	receiver := "null"
	receivers := []any{map[string]any{"name": "null"}}
	if cfg.AlertWebhookURL != "" {
		receiver = "lab-webhook"
		receivers = append(receivers, map[string]any{
			"name": receiver,
			"webhook_configs": []any{map[string]any{
				"url_file": webhookFile, "send_resolved": true,
			}},
		})
	}
	return map[string]any{
		"route": map[string]any{
			"receiver": receiver,
			"group_by": []any{"namespace", "alertname"},
			"routes": []any{
				map[string]any{"receiver": "null", "matchers": []any{`alertname = "Watchdog"`}},
				map[string]any{"receiver": "null", "matchers": []any{`alertname = "InfoInhibitor"`}},
			},
		},
		"receivers": receivers,
	}
}
