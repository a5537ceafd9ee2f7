package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
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

var chart = kube.Chart{Repository: "https://prometheus-community.github.io/helm-charts", Name: "kube-prometheus-stack", Version: "88.5.3"}

// release is the Helm release the config asks for, with the user's chart overrides.
func release(cfg *Config, req *sdk.Request) kube.Release {
	override := req.Charts[chart.Name]
	return kube.Release{
		Name:        releaseName,
		Namespace:   cfg.Namespace,
		Chart:       chart.Override(override),
		Values:      kube.Merge(values(cfg, req), override.Values),
		UpgradeCRDs: true,
		// The first install pulls the images of Grafana, the operator and the admission
		// webhook's hook Jobs; the stack's own timeout still bounds it.
		Timeout: 10 * time.Minute,
	}
}

func grafanaURL(req *sdk.Request) string { return "http://grafana." + req.Lab.Domain }

// container is the resources of one container the stack runs, times how many run.
type container struct {
	name                           string
	count                          int
	reqCPU, reqMem, limCPU, limMem string
}

func (c container) values() map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": c.reqCPU, "memory": c.reqMem},
		"limits":   map[string]any{"cpu": c.limCPU, "memory": c.limMem},
	}
}

// The containers of the stack and their resources. With 3 nodes they request 460m CPU and
// 1130Mi and may use 1850m and about 3Gi, inside the namespace quota of 1 CPU/2Gi requested
// and 3 CPU/6Gi limit, leaving room for a rolling update of the Deployments and for the
// admission webhook's hook Jobs.
var (
	operatorRes   = container{"prometheus-operator", 1, "50m", "64Mi", "100m", "192Mi"}
	prometheusRes = container{"prometheus", 1, "200m", "512Mi", "750m", "1536Mi"}
	// config-reloader runs beside Prometheus and beside Alertmanager (and as their init container).
	reloaderRes     = container{"config-reloader", 2, "10m", "25Mi", "50m", "50Mi"}
	alertmanagerRes = container{"alertmanager", 1, "20m", "48Mi", "100m", "128Mi"}
	grafanaRes      = container{"grafana", 1, "100m", "192Mi", "300m", "512Mi"}
	// the dashboards and datasources sidecars of Grafana
	sidecarRes      = container{"grafana sidecars", 2, "10m", "64Mi", "50m", "128Mi"}
	ksmRes          = container{"kube-state-metrics", 1, "20m", "64Mi", "100m", "128Mi"}
	nodeExporterRes = container{"node-exporter", 3, "10m", "24Mi", "100m", "64Mi"}
	// run one at a time, before and after an install or upgrade; an init container only
	initRes = container{"hook jobs and init containers", 0, "10m", "32Mi", "100m", "64Mi"}
)

var running = []container{operatorRes, prometheusRes, reloaderRes, alertmanagerRes, grafanaRes, sidecarRes, ksmRes, nodeExporterRes}

// footprint sums what the running containers request and may use.
func footprint() sdk.Footprint {
	var f sdk.Footprint
	for _, c := range running {
		n := int64(c.count)
		f.CPURequestMillis += n * milli(c.reqCPU)
		f.MemoryRequestBytes += n * bytesOf(c.reqMem)
		f.CPULimitMillis += n * milli(c.limCPU)
		f.MemoryLimitBytes += n * bytesOf(c.limMem)
	}
	return f
}

func milli(q string) int64 { v := resource.MustParse(q); return v.MilliValue() }

func bytesOf(q string) int64 { v := resource.MustParse(q); return v.Value() }

// retentionSize keeps Prometheus' blocks under 85% of its volume, so the WAL and a
// compaction still fit: Prometheus deletes old blocks by size as well as by age.
func retentionSize(storage string) string {
	return fmt.Sprintf("%dMiB", bytesOf(storage)*85/100>>20)
}

func values(cfg *Config, req *sdk.Request) map[string]any {
	domain := req.Lab.Domain
	simulated := req.Cluster.Simulated
	host := func(prefix string) string { return prefix + "." + domain }

	grafana := map[string]any{
		"enabled":                  true,
		"defaultDashboardsEnabled": true,
		// No password in values: Grafana reads the admin from the Secret lab generates.
		"admin": map[string]any{"existingSecret": adminSecret, "userKey": kube.UsernameKey, "passwordKey": kube.PasswordKey},
		"ingress": map[string]any{
			"enabled": true, "hosts": []any{host("grafana")}, "path": "/",
		},
		"grafana.ini": map[string]any{
			"server":    map[string]any{"root_url": grafanaURL(req)},
			"analytics": map[string]any{"check_for_updates": false},
			// The lab's overview is Grafana's home page; the sidecar writes each dashboard to
			// <sidecar folder>/<folder annotation>/<key>.
			"dashboards": map[string]any{"default_home_dashboard_path": "/tmp/dashboards/" + cfg.DashboardsFolder + "/" + overviewKey},
		},
		"resources": grafanaRes.values(),
		"sidecar": map[string]any{
			"resources": sidecarRes.values(),
			// The chart's dashboards go to one folder, the user's to another.
			"dashboards": map[string]any{
				"annotations":      map[string]any{folderAnnotation: kubeFolder},
				"folderAnnotation": folderAnnotation,
				"provider":         map[string]any{"foldersFromFilesStructure": true},
			},
		},
		"initChownData": map[string]any{"resources": initRes.values()},
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
			"resources":   alertmanagerRes.values(),
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

	nodeExporterValues := map[string]any{"resources": nodeExporterRes.values()}
	if req.Cluster.Provider == "k3d" {
		// k3d's nodes are containers whose / is not a shared mount: the chart's
		// HostToContainer propagation would keep node-exporter from starting.
		nodeExporterValues["hostRootFsMount"] = map[string]any{"enabled": true, "mountPropagation": "None"}
	}

	// k3s runs controller-manager, scheduler, proxy and etcd (or kine) inside the k3s
	// process, with their metrics on 127.0.0.1 only, so the chart's Services find no pods
	// and its TargetDown and *Down alerts would fire on a healthy lab. Turning a component
	// off here drops its Service, ServiceMonitor, rules and dashboard together.
	controlPlane := map[string]any{"enabled": cfg.ControlPlaneMetrics}

	return map[string]any{
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
				"resources":   prometheusRes.values(),
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
			"resources":                operatorRes.values(),
			"prometheusConfigReloader": map[string]any{"resources": reloaderRes.values()},
			// The webhook validates PrometheusRules; on a simulated cluster no operator
			// would answer it.
			"admissionWebhooks": map[string]any{
				"enabled": !simulated,
				"patch":   map[string]any{"resources": initRes.values()},
			},
		},
		"kube-state-metrics": map[string]any{
			"resources": ksmRes.values(),
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
