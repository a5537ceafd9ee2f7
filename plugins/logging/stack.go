package logging

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Version of this plugin.
var Version = "0.1.0"

// Config is the logging block of lab.hcl.
type Config struct {
	Namespace          string   `hcl:"namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace of the operator, Elasticsearch, Kibana and Filebeat"`
	ElasticsearchNodes int      `hcl:"elasticsearch_nodes" min:"1" max:"3" doc:"Elasticsearch nodes (each master and data); 3 by default, 1 for a small laptop; the logging quota holds at most 3 with an upgrade's extra node"`
	StorageSize        string   `hcl:"storage_size" doc:"volume of each Elasticsearch node, such as 5Gi"`
	StorageClass       string   `hcl:"storage_class" doc:"StorageClass of the Elasticsearch volumes; empty is the cluster's default (k3d: local-path, in the lab's data folder)"`
	Retention          string   `hcl:"retention" doc:"how long the app-* and k8s-* indices are kept before the lifecycle policy deletes them, an Elasticsearch duration such as 7d or 36h"`
	AppNamespaces      []string `hcl:"app_namespaces" doc:"namespaces whose logs go to the app-* indices (a trailing * matches a prefix); all others go to k8s-*"`
	SnapshotPath       string   `hcl:"snapshot_path" doc:"folder on every node for the Elasticsearch snapshot repository; it must be the same storage on all nodes, as the lab's data folder (/mnt/data) is on k3d"`
}

type session = helmstack.Session[Config]

// The README's quota of the logging namespace.
var quota = kube.Quota{RequestsCPU: "2", RequestsMemory: "4Gi", LimitsCPU: "4", LimitsMemory: "8Gi",
	DefaultRequestCPU: "10m", DefaultRequestMemory: "32Mi", DefaultLimitCPU: "100m", DefaultLimitMemory: "128Mi"}

// Sizing, inside the quota with an upgrade's surge (one extra Elasticsearch node, the
// operator's changeBudget, and one extra Kibana pod) and Filebeat on the lab's
// 3 nodes. With 3 Elasticsearch nodes:
//
//	            requests            limits
//	operator    1 x  50m /  128Mi   1 x 200m /  256Mi
//	ES (3+1)    4 x 300m /  640Mi   4 x 600m / 1024Mi
//	Kibana(1+1) 2 x 100m /  512Mi   2 x 500m / 1024Mi
//	Filebeat    3 x  50m /  100Mi   3 x 100m /  200Mi
//	total          1600m / 4012Mi      3900m / 7000Mi   (quota 2000m/4Gi, 4000m/8Gi)
//
// Elasticsearch's heap is half its memory request (320m); the rest is Lucene's off-heap
// and the page cache.
var (
	operatorPod = kube.Container{Name: "operator", Replicas: 1, CPU: "50m", Memory: "128Mi", CPULimit: "200m", MemoryLimit: "256Mi"}
	esPod       = kube.Container{Name: "elasticsearch", CPU: "300m", Memory: "640Mi", CPULimit: "600m", MemoryLimit: "1Gi"}
	kibanaPod   = kube.Container{Name: "kibana", Replicas: 1, CPU: "100m", Memory: "512Mi", CPULimit: "500m", MemoryLimit: "1Gi"}
	filebeatPod = kube.Container{Name: "filebeat", PerNode: true, CPU: "50m", Memory: "100Mi", CPULimit: "100m", MemoryLimit: "200Mi"}
)

// surge is what runs at once during an upgrade: one node and one Kibana pod more.
const surge = 1

// containers are the stack's containers for a config (n nodes of Elasticsearch), with
// the upgrade's surge when withSurge.
func containers(cfg *Config, withSurge bool) []kube.Container {
	es, kb := esPod, kibanaPod
	es.Replicas = cfg.ElasticsearchNodes
	if withSurge {
		es.Replicas += surge
		kb.Replicas += surge
	}
	return []kube.Container{operatorPod, es, kb, filebeatPod}
}

// heap is the JVM heap of an Elasticsearch node: half its memory request, in megabytes.
func heap() string {
	q := resource.MustParse(esPod.Memory)
	return fmt.Sprintf("%dm", q.Value()/2/(1<<20))
}

var (
	// Elasticsearch time units that make sense for a retention.
	durationPattern = regexp.MustCompile(`^[1-9][0-9]*(d|h|m|s)$`)
	// A namespace name (RFC 1123 label), optionally ending in * for a prefix.
	namespacePattern = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?|[a-z0-9][-a-z0-9]*\*)$`)
)

func validate(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
	if !durationPattern.MatchString(cfg.Retention) {
		d.Errorf("retention", "%q is not a duration: want a whole number of days, hours, minutes or seconds, such as 7d or 36h", cfg.Retention)
	}
	if q, err := resource.ParseQuantity(cfg.StorageSize); err != nil || q.Cmp(resource.MustParse("1Gi")) < 0 {
		d.Errorf("storage_size", "%q: want a size of at least 1Gi, such as 5Gi", cfg.StorageSize)
	}
	if len(cfg.AppNamespaces) == 0 {
		d.Errorf("app_namespaces", "name at least one namespace of the applications, such as \"nexo-*\"")
	}
	for i, ns := range cfg.AppNamespaces {
		if len(strings.TrimSuffix(ns, "*")) > 63 || !namespacePattern.MatchString(ns) {
			d.Errorf(sdk.Index("app_namespaces", i), "%q is not a namespace name: want lower-case letters, digits and '-', starting and ending with a letter or digit, optionally ending in * (\"nexo-*\")", ns)
		}
	}
	if !strings.HasPrefix(cfg.SnapshotPath, "/") {
		d.Errorf("snapshot_path", "%q: want an absolute path on the nodes", cfg.SnapshotPath)
	}
}

func defaults() *Config {
	return &Config{Namespace: "logging", ElasticsearchNodes: 3, StorageSize: "5Gi", Retention: "7d",
		AppNamespaces: []string{"nexo-*"}, SnapshotPath: "/mnt/data/logging-snapshots"}
}

// The API groups of the operator's CRDs.
var crdGroups = []string{"elasticsearch.k8s.elastic.co", "kibana.k8s.elastic.co", "beat.k8s.elastic.co",
	"agent.k8s.elastic.co", "apm.k8s.elastic.co", "enterprisesearch.k8s.elastic.co", "maps.k8s.elastic.co",
	"logstash.k8s.elastic.co", "autoscaling.k8s.elastic.co", "stackconfigpolicy.k8s.elastic.co",
	"packageregistry.k8s.elastic.co", "autoops.k8s.elastic.co"}

// New returns the logging stack.
func New() *helmstack.Stack[Config] {
	fixed, perNode := kube.FootprintOf(containers(defaults(), false))
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{
			Name:             "logging",
			Version:          Version,
			Description:      "Elasticsearch, Kibana and Filebeat through ECK: every container's logs in app-* and k8s-* indices, with retention, data views and snapshots",
			DependsOn:        []string{"ingress"},
			Namespaces:       []string{"logging"},
			Footprint:        fixed,
			FootprintPerNode: perNode,
			Dashboards:       map[string]string{"kibana": "kibana"},
		},
		Defaults: defaults,
		Validate: validate,
		Namespaces: func(cfg *Config) []helmstack.Namespace {
			return []helmstack.Namespace{{Name: cfg.Namespace, Quota: &quota, Data: true}}
		},
		Releases: releases,
		After:    after,
		Rollouts: []helmstack.Rollout{{Check: "operator rollout", Release: operatorRelease}},
		Checks:   checks,
		Endpoints: func(s *session) []sdk.Endpoint {
			return []sdk.Endpoint{{Name: "kibana", URL: kibanaURL(s)}}
		},
		Data:      &helmstack.Data[Config]{Backup: backup, Restore: restore},
		CRDGroups: crdGroups,
		Teardown:  teardown,
	})
}

func kibanaURL(s *session) string { return "http://" + s.Host("kibana") }
