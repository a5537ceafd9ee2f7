package nexoapps

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

// Names of the Secrets lab generates once in nexo-data (every other Secret is made from
// them on each apply), and of the objects the charts refer to.
const (
	postgresSecret = charts.PostgresSecret
	usersSecret    = charts.UsersSecret
	redisSecret    = charts.RedisSecret
	adminSecret    = charts.AdminSecret
	clientsSecret  = "keycloak-clients" // nexo-be's client secret
	realmSecret    = charts.RealmSecret
	beSecret       = charts.BESecret
	beConfig       = charts.BEConfig
	themeConfig    = charts.ThemeConfig
	authDatabase   = charts.AuthDatabase
	realmName      = charts.RealmName
)

// secrets are the generated passwords, read or made once.
type secrets struct {
	Superuser    string
	Users        map[string]string // database user => password
	Redis        string
	Admin        kube.Credential
	ClientNexoBE string
}

// ensureSecrets generates what is missing; while rendering it only reads.
func ensureSecrets(ctx context.Context, s *session) (*secrets, error) {
	out := &secrets{Users: map[string]string{}}
	pg, err := s.Secret(ctx, dataNamespace, postgresSecret, map[string]kube.Generator{"postgres-password": kube.Password(32)})
	if err != nil {
		return nil, err
	}
	out.Superuser = string(pg["postgres-password"])
	gens := map[string]kube.Generator{authDatabase: kube.Password(32)}
	for _, e := range environments(s.Config) {
		gens[e.Database()] = kube.Password(32)
	}
	users, err := s.Secret(ctx, dataNamespace, usersSecret, gens)
	if err != nil {
		return nil, err
	}
	for k := range gens {
		out.Users[k] = string(users[k])
	}
	rd, err := s.Secret(ctx, dataNamespace, redisSecret, map[string]kube.Generator{"password": kube.Password(32)})
	if err != nil {
		return nil, err
	}
	out.Redis = string(rd["password"])
	// redis-server reads its password from a file of this Secret, never a command line.
	if _, err := s.Secret(ctx, dataNamespace, redisSecret, map[string]kube.Generator{"auth.conf": kube.Fixed("requirepass " + out.Redis + "\n")}); err != nil {
		return nil, err
	}
	if out.Admin, err = s.Credential(ctx, "keycloak", dataNamespace, adminSecret, "http://"+authHostOf(s)+"/admin/", "admin"); err != nil {
		return nil, err
	}
	cl, err := s.Secret(ctx, dataNamespace, clientsSecret, map[string]kube.Generator{"nexo-be": kube.Password(40)})
	if err != nil {
		return nil, err
	}
	out.ClientNexoBE = string(cl["nexo-be"])
	return out, nil
}

// authHostOf is the first environment's Keycloak host, where the admin console is.
func authHostOf(s *session) string {
	return environments(s.Config)[0].AuthHost(s.Req.Lab.Domain)
}

func object(apiVersion, kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app.kubernetes.io/part-of": "nexo"}}}
	for k, v := range fields {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

func secretObject(ns, name string, data map[string]string) *unstructured.Unstructured {
	enc := map[string]any{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return object("v1", "Secret", ns, name, map[string]any{"type": "Opaque", "data": enc})
}

func serviceAccount(ns, name string, token bool) *unstructured.Unstructured {
	return object("v1", "ServiceAccount", ns, name, map[string]any{"automountServiceAccountToken": token})
}

// pullSecret is the harbor stack's pull secret of project nexo in each of its
// pull_namespaces; the applications' ServiceAccounts name it, as their pods pull the
// team's images from Harbor.
const pullSecret = "harbor-pull-nexo"

func appServiceAccount(ns, name string, token bool) *unstructured.Unstructured {
	sa := serviceAccount(ns, name, token)
	sa.Object["imagePullSecrets"] = []any{map[string]any{"name": pullSecret}}
	return sa
}

// platform is every object the stack makes outside its charts, whichever delivers them:
// ServiceAccounts, RBAC, NetworkPolicies, the Secrets made from the generated ones, the
// realm import and the theme.
func platform(s *session, sec *secrets, theme map[string]string) []*unstructured.Unstructured {
	domain := s.Req.Lab.Domain
	envs := environments(s.Config)
	var objs []*unstructured.Unstructured
	for _, e := range envs {
		objs = append(objs, envObjects(s, e, sec)...)
	}
	objs = append(objs,
		serviceAccount(dataNamespace, "postgres", false),
		serviceAccount(dataNamespace, "redis", false),
		serviceAccount(dataNamespace, "nexo-auth", false),
		secretObject(dataNamespace, realmSecret, map[string]string{"nexo-realm.json": realmJSON(realmOf(envs, domain, sec.ClientNexoBE, len(theme) > 0))}),
	)
	objs = append(objs, dataPolicies(s, envs)...)
	if len(theme) > 0 {
		objs = append(objs, object("v1", "ConfigMap", dataNamespace, themeConfig, map[string]any{"data": anyMap(theme)}))
	}
	return objs
}

func anyMap(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func envObjects(s *session, e env, sec *secrets) []*unstructured.Unstructured {
	domain, ns := s.Req.Lab.Domain, e.Namespace
	db := e.Database()
	svc := func(name, port string) string { return fmt.Sprintf("%s.%s.svc.cluster.local", name, dataNamespace) }
	return []*unstructured.Unstructured{
		appServiceAccount(ns, "nexo-fe", false),
		// nexo-be reads its own ConfigMap from the API (settings reloaded without a restart).
		appServiceAccount(ns, "nexo-be", true),
		object("rbac.authorization.k8s.io/v1", "Role", ns, "nexo-be", map[string]any{"rules": []any{
			map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "resourceNames": []any{beConfig}, "verbs": []any{"get", "watch"}},
		}}),
		object("rbac.authorization.k8s.io/v1", "RoleBinding", ns, "nexo-be", map[string]any{
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "nexo-be"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "nexo-be", "namespace": ns}},
		}),
		object("v1", "ConfigMap", ns, beConfig, map[string]any{"data": map[string]any{
			"ENVIRONMENT": e.Name, "PUBLIC_URL": "http://" + e.FEHost(domain),
			"API_URL": "http://" + e.APIHost(domain), "AUTH_URL": "http://" + e.AuthHost(domain),
		}}),
		secretObject(ns, beSecret, map[string]string{
			"DATABASE_HOST": svc("postgres", ""), "DATABASE_PORT": "5432", "DATABASE_NAME": db,
			"DATABASE_USER": db, "DATABASE_PASSWORD": sec.Users[db],
			"REDIS_HOST": svc("redis", ""), "REDIS_PORT": "6379", "REDIS_PASSWORD": sec.Redis,
			"REDIS_KEY_PREFIX":       e.Slot + ":",
			"KEYCLOAK_URL":           "http://" + svc("nexo-auth", "") + ":8080",
			"KEYCLOAK_ISSUER":        "http://" + e.AuthHost(domain) + "/realms/" + realmName,
			"KEYCLOAK_REALM":         realmName,
			"KEYCLOAK_CLIENT_ID":     "nexo-be",
			"KEYCLOAK_CLIENT_SECRET": sec.ClientNexoBE,
		}),
		policy(ns, "default-deny", nil, nil),
		policy(ns, "allow-ingress-controller", matchApps("nexo-fe", "nexo-be"),
			[]any{from(namespaces(s.Config.ingressNamespace()), nil, "http")}),
		policy(ns, "allow-prometheus", matchApps("nexo-be"),
			[]any{from(namespaces(s.Config.monitoringNamespace()), matchApps("prometheus"), "metrics")}),
	}
}

// dataPolicies let in only who needs each shared service.
func dataPolicies(s *session, envs []env) []*unstructured.Unstructured {
	var envNS []string
	for _, e := range envs {
		envNS = append(envNS, e.Namespace)
	}
	backends := namespaces(envNS...)
	return []*unstructured.Unstructured{
		policy(dataNamespace, "default-deny", nil, nil),
		policy(dataNamespace, "allow-postgres", matchApps("postgres"), []any{
			from(backends, matchApps("nexo-be"), "postgres"),
			from(nil, matchApps("nexo-auth"), "postgres"),
		}),
		policy(dataNamespace, "allow-redis", matchApps("redis"), []any{from(backends, matchApps("nexo-be"), "redis")}),
		policy(dataNamespace, "allow-keycloak", matchApps("nexo-auth"), []any{
			from(namespaces(s.Config.ingressNamespace()), nil, "http"),
			from(backends, matchApps("nexo-be"), "http"),
		}),
	}
}

// policy selects pods (all when nil) and admits only the rules' peers; with no rules it
// denies every ingress to them.
func policy(ns, name string, pods map[string]any, rules []any) *unstructured.Unstructured {
	if pods == nil {
		pods = map[string]any{}
	}
	spec := map[string]any{"podSelector": pods, "policyTypes": []any{"Ingress"}}
	if len(rules) > 0 {
		spec["ingress"] = rules
	}
	return object("networking.k8s.io/v1", "NetworkPolicy", ns, name, map[string]any{"spec": spec})
}

func matchApps(names ...string) map[string]any {
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = n
	}
	return map[string]any{"matchExpressions": []any{map[string]any{"key": "app.kubernetes.io/name", "operator": "In", "values": vals}}}
}

func namespaces(names ...string) map[string]any {
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i] = n
	}
	return map[string]any{"matchExpressions": []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": "In", "values": vals}}}
}

// from admits pods of namespaces (the policy's own when nil) to a named port.
func from(nss, pods map[string]any, port string) map[string]any {
	peer := map[string]any{}
	if nss != nil {
		peer["namespaceSelector"] = nss
	}
	if pods != nil {
		peer["podSelector"] = pods
	}
	return map[string]any{"from": []any{peer}, "ports": []any{map[string]any{"port": port, "protocol": "TCP"}}}
}

// applyPlatform applies the objects and reports whether any changed.
func applyPlatform(ctx context.Context, s *session, objs []*unstructured.Unstructured) (bool, error) {
	changed := false
	for _, o := range objs {
		ch, err := s.Apply(ctx, o)
		if err != nil {
			return changed, err
		}
		changed = changed || ch
	}
	return changed, nil
}

// removedEnvironments are the namespaces of environments the config no longer lists: a
// nexo-* namespace holding this stack's nexo-be ServiceAccount.
func removedEnvironments(ctx context.Context, s *session) ([]string, error) {
	keep := []string{dataNamespace}
	for _, e := range environments(s.Config) {
		keep = append(keep, e.Namespace)
	}
	sas, err := s.Kube.Kube.CoreV1().ServiceAccounts("").List(ctx, metav1.ListOptions{
		LabelSelector: kube.StackLabel + "=" + s.Stack(), FieldSelector: "metadata.name=nexo-be"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sa := range sas.Items {
		if strings.HasPrefix(sa.Namespace, "nexo-") && !slices.Contains(keep, sa.Namespace) && !slices.Contains(out, sa.Namespace) {
			out = append(out, sa.Namespace)
		}
	}
	slices.Sort(out)
	return out, nil
}
