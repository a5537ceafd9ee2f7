// Package monitoring is the monitoring stack of lab: kube-prometheus-stack
// (prometheus-operator, Prometheus, Alertmanager, Grafana, node-exporter,
// kube-state-metrics) with the lab's alert rules, dashboards and ingress hosts. It runs as
// the plugin lab-plugin-monitoring, built into lab-plugins.
package monitoring
