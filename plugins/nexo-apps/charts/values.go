package charts

import (
	"strings"

	"github.com/nexolab/lab/core/kube"
)

// DataNamespace holds what the environments share: PostgreSQL, Redis and Keycloak.
const DataNamespace = "nexo-data"

// Names of objects the charts' values refer to; lab makes them outside the charts.
const (
	RealmName      = "nexo"
	AuthDatabase   = "nexo_auth"      // Keycloak's database and user
	PostgresSecret = "postgres"       // postgres-password: the superuser
	UsersSecret    = "postgres-users" // one key per database user: its password
	RedisSecret    = "redis"          // password, and auth.conf for redis-server
	AdminSecret    = "keycloak-admin" // Keycloak's admin login
	RealmSecret    = "nexo-realm"     // the realm import
	BESecret       = "nexo-be"        // per environment: DATABASE_*, REDIS_*, KEYCLOAK_*
	BEConfig       = "nexo-be"        // per environment: settings that are not secret
	ThemeConfig    = "nexo-theme"
)

// Containers: requests, limits and replicas of each application by default.
var (
	FE       = kube.Container{Name: "nexo-fe", Replicas: 2, CPU: "50m", Memory: "128Mi", CPULimit: "500m", MemoryLimit: "512Mi"}
	BE       = kube.Container{Name: "nexo-be", Replicas: 2, CPU: "100m", Memory: "256Mi", CPULimit: "1000m", MemoryLimit: "1Gi"}
	Keycloak = kube.Container{Name: "nexo-auth", Replicas: 1, CPU: "250m", Memory: "768Mi", CPULimit: "500m", MemoryLimit: "1Gi"}
	Postgres = kube.Container{Name: "postgres", Replicas: 1, CPU: "100m", Memory: "256Mi", CPULimit: "500m", MemoryLimit: "1Gi"}
	Redis    = kube.Container{Name: "redis", Replicas: 1, CPU: "50m", Memory: "64Mi", CPULimit: "250m", MemoryLimit: "256Mi"}
)

// Env is one environment with its names and sizes resolved.
type Env struct {
	Name string
	// Slot names the environment's namespace, releases and Applications: develop is "local".
	Slot      string
	Namespace string
	Replicas  int
	Tag       string
	FE, BE    kube.Container
}

// NewEnv is an environment with the default sizes.
func NewEnv(name, tag string) Env {
	slot := name
	if name == "develop" {
		slot = "local"
	}
	return Env{Name: name, Slot: slot, Namespace: "nexo-" + slot, Replicas: 2, Tag: tag, FE: FE, BE: BE}
}

// Hosts of an environment under the lab's domain.
func (e Env) FEHost(domain string) string   { return e.Name + "." + domain }
func (e Env) APIHost(domain string) string  { return e.Name + ".api." + domain }
func (e Env) AuthHost(domain string) string { return e.Name + ".auth." + domain }

// Database is the database and user of the environment's backend: develop's is nexo,
// the others nexo_<name>.
func (e Env) Database() string {
	if e.Name == "develop" {
		return "nexo"
	}
	return "nexo_" + strings.ReplaceAll(e.Name, "-", "_")
}

// Site is what every environment's values depend on.
type Site struct {
	Domain string
	// Registry is where the team's images are: harbor.<domain>/nexo.
	Registry string
}

func (s Site) image(app string, e Env) map[string]any {
	return map[string]any{"repository": s.Registry + "/" + app, "tag": e.Tag}
}

// FEValues are nexo-fe's values in an environment.
func (s Site) FEValues(e Env) map[string]any {
	return map[string]any{
		"image":        s.image("nexo-fe", e),
		"replicaCount": e.Replicas,
		"env": map[string]any{
			"NEXT_PUBLIC_API_URL":  "http://" + e.APIHost(s.Domain),
			"NEXT_PUBLIC_AUTH_URL": "http://" + e.AuthHost(s.Domain) + "/realms/" + RealmName,
		},
		"resources": e.FE.Resources(),
		"ingress":   map[string]any{"host": e.FEHost(s.Domain)},
	}
}

// BEValues are nexo-be's values in an environment.
func (s Site) BEValues(e Env) map[string]any {
	return map[string]any{
		"image":          s.image("nexo-be", e),
		"replicaCount":   e.Replicas,
		"existingSecret": BESecret,
		"configMap":      BEConfig,
		"resources":      e.BE.Resources(),
		"ingress":        map[string]any{"host": e.APIHost(s.Domain)},
	}
}

// AuthValues are Keycloak's values: one server for every environment's auth host.
// themeFiles are the paths of a theme served as "nexo".
func (s Site) AuthValues(envs []Env, themeFiles []any) map[string]any {
	var hosts []any
	for _, e := range envs {
		hosts = append(hosts, e.AuthHost(s.Domain))
	}
	v := map[string]any{
		"adminSecret": AdminSecret,
		"database": map[string]any{"host": "postgres", "name": AuthDatabase, "user": AuthDatabase,
			"existingSecret": UsersSecret, "passwordKey": AuthDatabase},
		"realmSecret": RealmSecret,
		"resources":   Keycloak.Resources(),
		"ingress":     map[string]any{"hosts": hosts},
	}
	if len(themeFiles) > 0 {
		v["theme"] = map[string]any{"configMap": ThemeConfig, "files": themeFiles}
	}
	return v
}

// PostgresValues and RedisValues are the shared services' values.
func PostgresValues(storageClass, size string) map[string]any {
	return map[string]any{
		"existingSecret": PostgresSecret, "passwordKey": "postgres-password", "usersSecret": UsersSecret,
		"persistence": map[string]any{"storageClass": storageClass, "size": size},
		"resources":   Postgres.Resources(),
	}
}

func RedisValues(storageClass, size string) map[string]any {
	return map[string]any{
		"existingSecret": RedisSecret, "configKey": "auth.conf", "passwordKey": "password",
		"persistence": map[string]any{"storageClass": storageClass, "size": size},
		"resources":   Redis.Resources(),
	}
}
