package monitoring

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// rulesName is the PrometheusRule lab adds to the chart's rules. Prometheus selects rules
// from every namespace (ruleSelectorNilUsesHelmValues is off), so it needs no release label.
const rulesName = "lab-alerts"

var prometheusRules = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}

// rule is one alert of the lab.
type rule struct {
	Alert, Expr, For, Severity, Summary, Description string
}

// labRules are the lab's alerts, on kube-state-metrics, kubelet and node-exporter metrics
// as the chart scrapes them (job labels kube-state-metrics, kubelet, node-exporter).
var labRules = []rule{
	{
		Alert: "LabPodRestartLoop",
		// Three restarts in 15 minutes, or a container waiting in CrashLoopBackOff.
		Expr: `sum by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{job="kube-state-metrics"}[15m])) >= 3
or
sum by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics", reason="CrashLoopBackOff"}[5m])) >= 1`,
		For: "2m", Severity: "warning",
		Summary:     "Pod restarting in a loop",
		Description: "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} keeps restarting (3 or more restarts in 15 minutes, or CrashLoopBackOff). Look at `lab logs` and the pod's events.",
	},
	{
		Alert: "LabPersistentVolumeAlmostFull",
		// Volumes whose driver reports usage to the kubelet (CSI and most block volumes).
		Expr: `(
  kubelet_volume_stats_available_bytes{job="kubelet", metrics_path="/metrics"}
  /
  kubelet_volume_stats_capacity_bytes{job="kubelet", metrics_path="/metrics"}
) < 0.10
and
kubelet_volume_stats_used_bytes{job="kubelet", metrics_path="/metrics"} > 0`,
		For: "5m", Severity: "warning",
		Summary:     "PersistentVolume almost full",
		Description: "Volume of claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free.",
	},
	{
		Alert: "LabDataFolderAlmostFull",
		// k3s' local-path volumes are folders of the lab's data folder (/mnt/data on every
		// node); the kubelet reports no usage for them, so the filesystem is watched instead.
		Expr: `(
  node_filesystem_avail_bytes{job="node-exporter", mountpoint=~"/mnt/data|/var/lib/rancher/k3s/storage", fstype!=""}
  /
  node_filesystem_size_bytes{job="node-exporter", mountpoint=~"/mnt/data|/var/lib/rancher/k3s/storage", fstype!=""}
) < 0.10`,
		For: "5m", Severity: "warning",
		Summary:     "Lab data folder almost full",
		Description: "The filesystem of {{ $labels.mountpoint }} on {{ $labels.instance }}, which holds the lab's local-path volumes, has {{ $value | humanizePercentage }} free.",
	},
	{
		Alert: "LabNodeMemoryLow",
		// Less than 10% of memory available, or the kubelet reports memory pressure.
		Expr: `(
  node_memory_MemAvailable_bytes{job="node-exporter"}
  /
  node_memory_MemTotal_bytes{job="node-exporter"}
) < 0.10
or
kube_node_status_condition{job="kube-state-metrics", condition="MemoryPressure", status="true"} == 1`,
		For: "5m", Severity: "warning",
		Summary:     "Node short of memory",
		Description: "Node {{ $labels.node }}{{ $labels.instance }} has less than 10% of its memory available or reports MemoryPressure; pods may be evicted.",
	},
	{
		Alert: "LabStackPodsNotReady",
		// Pods of lab namespaces (labelled by lab when it makes them) that are not ready,
		// leaving out pods that completed (Job pods).
		Expr: `max by (namespace, pod) (kube_pod_status_ready{job="kube-state-metrics", condition="true"}) == 0
and on (namespace, pod)
  max by (namespace, pod) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Running|Unknown"}) == 1
and on (namespace)
  kube_namespace_labels{job="kube-state-metrics", label_app_kubernetes_io_managed_by="lab"}`,
		For: "10m", Severity: "warning",
		Summary:     "A stack's pods are not ready",
		Description: "Pod {{ $labels.namespace }}/{{ $labels.pod }} of a lab stack has not been ready for 10 minutes. `lab health` and `lab logs` tell more.",
	},
}

// rulesObject is the PrometheusRule of the lab's alerts.
func rulesObject(ns string) *unstructured.Unstructured {
	rules := make([]any, len(labRules))
	for i, r := range labRules {
		rules[i] = map[string]any{
			"alert":  r.Alert,
			"expr":   strings.TrimSpace(r.Expr),
			"for":    r.For,
			"labels": map[string]any{"severity": r.Severity},
			"annotations": map[string]any{
				"summary": r.Summary, "description": r.Description,
			},
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata": map[string]any{
			"name":      rulesName,
			"namespace": ns,
			"labels":    map[string]any{"app.kubernetes.io/part-of": "lab"},
		},
		"spec": map[string]any{
			"groups": []any{map[string]any{"name": "lab.rules", "rules": rules}},
		},
	}}
}
