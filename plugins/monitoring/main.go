// Command lab-plugin-monitoring is the monitoring stack of lab: kube-prometheus-stack
// (prometheus-operator, Prometheus, Alertmanager, Grafana, node-exporter,
// kube-state-metrics) with the lab's alert rules, dashboards and ingress hosts.
package main

import "github.com/nexolab/lab/core/sdk"

func main() { sdk.Serve(New) }
