package harbor

import (
	"regexp"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Version of this plugin.
var Version = "0.1.0"

// Config is the harbor block of lab.hcl.
type Config struct {
	Namespace       string   `hcl:"namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace of Harbor"`
	Projects        []string `hcl:"projects" doc:"Harbor projects to create (private, scanned on push), each with a CI robot that can push and pull"`
	Robot           string   `hcl:"robot" pattern:"^[a-z0-9]+([._-][a-z0-9]+)*$" doc:"name of each project's CI robot: robot$<project>+<robot>"`
	PullNamespaces  []string `hcl:"pull_namespaces" doc:"namespaces whose default ServiceAccount gets the robots' pull secrets; only those that exist, a later apply catches up"`
	TrivySkipUpdate bool     `hcl:"trivy_skip_update" doc:"do not download Trivy's vulnerability database (labs without internet)"`
	BackupRegistry  bool     `hcl:"backup_registry" doc:"also back up the registry's blobs (the images; can be large)"`
	RegistrySize    string   `hcl:"registry_size" doc:"volume of the registry's blobs"`
	DatabaseSize    string   `hcl:"database_size" doc:"volume of Harbor's PostgreSQL"`
	RedisSize       string   `hcl:"redis_size" doc:"volume of Harbor's Redis"`
	JobserviceSize  string   `hcl:"jobservice_size" doc:"volume of the jobservice's logs"`
	TrivySize       string   `hcl:"trivy_size" doc:"volume of Trivy's vulnerability database and cache"`
}

type session = helmstack.Session[Config]

const (
	stackName   = "harbor"
	releaseName = "harbor"
)

// quota is the README's quota of harbor-system.
var quota = kube.Quota{RequestsCPU: "1000m", RequestsMemory: "2Gi", LimitsCPU: "2000m", LimitsMemory: "4Gi"}

// containers are Harbor's, sized to fit the quota together (660m/1552Mi requested,
// 1600m/3200Mi at most) with room left for a second core while it rolls out.
var containers = []kube.Container{
	{Name: "core", Path: []string{"core"}, Replicas: 1, CPU: "100m", Memory: "256Mi", CPULimit: "300m", MemoryLimit: "512Mi"},
	{Name: "portal", Path: []string{"portal"}, Replicas: 1, CPU: "10m", Memory: "32Mi", CPULimit: "50m", MemoryLimit: "64Mi"},
	{Name: "registry", Path: []string{"registry", "registry"}, Replicas: 1, CPU: "100m", Memory: "192Mi", CPULimit: "200m", MemoryLimit: "384Mi"},
	{Name: "registryctl", Path: []string{"registry", "controller"}, Replicas: 1, CPU: "20m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "64Mi"},
	{Name: "jobservice", Path: []string{"jobservice"}, Replicas: 1, CPU: "50m", Memory: "96Mi", CPULimit: "150m", MemoryLimit: "256Mi"},
	{Name: "database", Path: []string{"database", "internal"}, Replicas: 1, CPU: "150m", Memory: "384Mi", CPULimit: "300m", MemoryLimit: "768Mi"},
	{Name: "database-permissions", Path: []string{"database", "internal", "initContainer", "permissions"}, CPU: "20m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "64Mi"},
	{Name: "redis", Path: []string{"redis", "internal"}, Replicas: 1, CPU: "30m", Memory: "48Mi", CPULimit: "100m", MemoryLimit: "128Mi"},
	{Name: "trivy", Path: []string{"trivy"}, Replicas: 1, CPU: "200m", Memory: "512Mi", CPULimit: "400m", MemoryLimit: "1Gi"},
}

// defaultNamespaces are the nexo environments' namespaces (develop runs in nexo-local).
var defaultNamespaces = []string{"nexo-local", "nexo-qa", "nexo-staging", "nexo-prod"}

func defaults() *Config {
	return &Config{
		Namespace: "harbor-system", Projects: []string{"nexo"}, Robot: "ci",
		PullNamespaces: append([]string(nil), defaultNamespaces...),
		// 40 + 5 + 1 + 1 + 3 = the lab's 50Gi for Harbor.
		RegistrySize: "40Gi", DatabaseSize: "5Gi", RedisSize: "1Gi", JobserviceSize: "1Gi", TrivySize: "3Gi",
	}
}

// New returns the harbor stack.
func New() *helmstack.Stack[Config] {
	fixed, _ := kube.FootprintOf(containers)
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{
			Name:        stackName,
			Version:     Version,
			Description: "Harbor with Trivy at harbor.<domain>: private projects scanned on push, a CI robot per project, pull secrets for the application namespaces",
			DependsOn:   []string{"ingress"},
			Namespaces:  []string{"harbor-system"},
			Footprint:   fixed,
			Dashboards:  map[string]string{"harbor": "https://harbor"},
		},
		Defaults: defaults,
		Validate: validate,
		Namespaces: func(cfg *Config) []helmstack.Namespace {
			return []helmstack.Namespace{{Name: cfg.Namespace, Quota: &quota, Data: true}}
		},
		Prepare:  prepare,
		Releases: releases,
		After:    after,
		Rollouts: rollouts,
		Checks:   checks,
		Endpoints: func(s *session) []sdk.Endpoint {
			return []sdk.Endpoint{{Name: "harbor", URL: "https://" + s.Host("harbor")}}
		},
		Objects:  objects,
		Data:     &helmstack.Data[Config]{Backup: backup, Restore: restore},
		Teardown: teardown,
	})
}

// rollouts are Harbor's components, by workload name (every workload of the chart has
// app.kubernetes.io/name=harbor).
var rollouts = []helmstack.Rollout{
	{Check: "core rollout", Name: releaseName + "-core"},
	{Check: "portal rollout", Name: releaseName + "-portal"},
	{Check: "registry rollout", Name: releaseName + "-registry"},
	{Check: "jobservice rollout", Name: releaseName + "-jobservice"},
	{Check: "database rollout", Name: releaseName + "-database"},
	{Check: "redis rollout", Name: releaseName + "-redis"},
	{Check: "trivy rollout", Name: releaseName + "-trivy"},
}

// projectName is Harbor's rule for project names (lower case letters, digits and
// separators . _ - between them), 1 to 255 characters.
var projectName = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func validate(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
	seen := map[string]bool{}
	for i, p := range cfg.Projects {
		switch {
		case len(p) > 255 || !projectName.MatchString(p):
			d.Errorf(sdk.Index("projects", i), "%q is not a valid Harbor project name: lower case letters and digits, separated by single '.', '_' or '-', at most 255 characters", p)
		case seen[p]:
			d.Errorf(sdk.Index("projects", i), "project %q is listed twice", p)
		}
		seen[p] = true
	}
	for i, ns := range cfg.PullNamespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			d.Errorf(sdk.Index("pull_namespaces", i), "%q is not a namespace name: %s", ns, msgs[0])
		}
	}
	for attr, v := range map[string]string{"registry_size": cfg.RegistrySize, "database_size": cfg.DatabaseSize,
		"redis_size": cfg.RedisSize, "jobservice_size": cfg.JobserviceSize, "trivy_size": cfg.TrivySize} {
		if q, err := resource.ParseQuantity(v); err != nil || q.Sign() <= 0 {
			d.Errorf(attr, "%q is not a volume size (a Kubernetes quantity such as 10Gi)", v)
		}
	}
}
