package nexoapps

import (
	"fmt"
	"regexp"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/sdk"
)

// Config is the nexo-apps block of lab.hcl.
type Config struct {
	Environments  []string             `hcl:"environments" doc:"environments to run, each in its namespace (develop in nexo-local, the others in nexo-<name>)"`
	Environment   map[string]EnvConfig `hcl:"environment,block" label:"name" doc:"settings of one environment of the list: replicas, image tag, resources"`
	ImageRegistry string               `hcl:"image_registry" doc:"registry and project of the team's images; harbor.<domain>/nexo when empty"`
	Tag           string               `hcl:"tag" pattern:"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" doc:"image tag of nexo-fe and nexo-be in every environment"`
	Delivery      string               `hcl:"delivery" enum:"auto,argocd,helm" doc:"auto: Argo CD Applications when Argo CD is there, else Helm; argocd or helm to choose"`
	RepoURL       string               `hcl:"repo_url" doc:"Git repository of the Applications; the argocd stack's repository when empty"`
	Revision      string               `hcl:"target_revision" doc:"branch, tag or commit the Applications follow"`
	ThemesDir     string               `hcl:"themes_dir" path:"true" doc:"folder of a Keycloak theme (login/, account/, ...) served as theme nexo"`
	StorageClass  string               `hcl:"storage_class" doc:"storage class of the PostgreSQL and Redis volumes (k3s's local-path keeps them under the lab's data folder)"`
	DatabaseSize  string               `hcl:"database_size" doc:"size of the PostgreSQL volume"`
	RedisSize     string               `hcl:"redis_size" doc:"size of the Redis volume"`
	IngressNS     string               `hcl:"ingress_namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace of the ingress controller, let in by the network policies"`
	MonitoringNS  string               `hcl:"monitoring_namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace of Prometheus, let in to nexo-be's metrics port"`
}

func (cfg *Config) ingressNamespace() string    { return cfg.IngressNS }
func (cfg *Config) monitoringNamespace() string { return cfg.MonitoringNS }

// EnvConfig is an `environment "<name>" {}` block.
type EnvConfig struct {
	Replicas int    `hcl:"replicas" min:"0" max:"10" doc:"replicas of nexo-fe and nexo-be (2 when unset)"`
	Tag      string `hcl:"tag" pattern:"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" doc:"image tag of this environment"`
	CPU      string `hcl:"cpu" doc:"CPU limit of nexo-be (nexo-fe gets half), e.g. 1000m"`
	Memory   string `hcl:"memory" doc:"memory limit of nexo-be (nexo-fe gets half), e.g. 1Gi"`
}

func defaults() *Config {
	return &Config{
		Environments: []string{"develop", "qa", "staging", "prod"},
		Tag:          "latest",
		Delivery:     "auto",
		Revision:     "HEAD",
		StorageClass: "local-path",
		DatabaseSize: "5Gi",
		RedisSize:    "1Gi",
		IngressNS:    "ingress",
		MonitoringNS: "monitoring",
	}
}

// minimum is what nexo-be requests; its limit cannot be lower (nexo-fe gets half).
var minimum = map[string]string{"cpu": "200m", "memory": "512Mi"}

var envName = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$`)

// validate checks what the schema cannot: environment names, blocks naming listed
// environments, and quantities.
func validate(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
	if len(cfg.Environments) == 0 {
		d.Errorf("environments", "at least one environment is needed")
	}
	seen := map[string]bool{}
	for i, e := range cfg.Environments {
		switch {
		case !envName.MatchString(e):
			d.Errorf(sdk.Index("environments", i), "%q is not an environment name: lower-case letters, digits and '-', at most 22", e)
		case e == "local" || e == "data":
			d.Errorf(sdk.Index("environments", i), "%q would take the namespace of develop or of the shared services", e)
		case seen[e]:
			d.Errorf(sdk.Index("environments", i), "%q is listed twice", e)
		}
		seen[e] = true
	}
	for _, name := range sortedKeys(cfg.Environment) {
		ec := cfg.Environment[name]
		at := "environment." + name
		if !slices.Contains(cfg.Environments, name) {
			d.Errorf(at, "no environment %q in environments (%v)", name, cfg.Environments)
			continue
		}
		for field, q := range map[string]string{"cpu": ec.CPU, "memory": ec.Memory} {
			if q == "" {
				continue
			}
			v, err := resource.ParseQuantity(q)
			if err != nil {
				d.Errorf(at+"."+field, "%q is not a Kubernetes quantity (e.g. 1000m, 1Gi)", q)
				continue
			}
			if min := resource.MustParse(minimum[field]); v.Cmp(min) < 0 {
				d.Errorf(at+"."+field, "%s is below nexo-be's request of %s", q, minimum[field])
			}
		}
	}
	for field, q := range map[string]string{"database_size": cfg.DatabaseSize, "redis_size": cfg.RedisSize} {
		if _, err := resource.ParseQuantity(q); err != nil {
			d.Errorf(field, "%q is not a Kubernetes quantity (e.g. 5Gi)", q)
		}
	}
	if cfg.ImageRegistry != "" && !regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$`).MatchString(cfg.ImageRegistry) {
		d.Errorf("image_registry", "%q is not a registry and project such as harbor.nexo.local/nexo", cfg.ImageRegistry)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// registry is where the team's images come from.
func (cfg *Config) registry(domain string) string {
	if cfg.ImageRegistry != "" {
		return cfg.ImageRegistry
	}
	return fmt.Sprintf("harbor.%s/nexo", domain)
}
