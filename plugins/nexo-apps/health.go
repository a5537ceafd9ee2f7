package nexoapps

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/dbdump"
	"github.com/nexolab/lab/core/kube/podexec"
	"github.com/nexolab/lab/core/sdk"
)

// checks run after the rollouts: per environment its policies, quota, Applications and
// nexo-be's probes; then Keycloak's realm, PostgreSQL and Redis.
func checks(ctx context.Context, s *session, h *sdk.Health) {
	for _, e := range environments(s.Config) {
		checkPolicies(ctx, s, h, e.Name, e.Namespace, "default-deny", "allow-ingress-controller", "allow-prometheus")
		checkQuota(ctx, s, h, e.Name, e.Namespace)
		if byArgoCD(s) {
			checkApplications(ctx, s, h, e)
		}
		checkBackend(ctx, s, h, e)
	}
	checkPolicies(ctx, s, h, "shared", dataNamespace, "default-deny", "allow-postgres", "allow-redis", "allow-keycloak")
	checkQuota(ctx, s, h, "shared", dataNamespace)
	checkRealm(ctx, s, h)
	checkPostgres(ctx, s, h)
	checkRedis(ctx, s, h)
}

func checkPolicies(ctx context.Context, s *session, h *sdk.Health, env, ns string, names ...string) {
	check := env + " network policies"
	list, err := s.Kube.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		h.Add(check, sdk.Unhealthy, "%v", err)
		return
	}
	have := map[string]bool{}
	for _, p := range list.Items {
		have[p.Name] = true
	}
	var missing []string
	for _, n := range names {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		h.Add(check, sdk.Unhealthy, "missing in %s: %s", ns, strings.Join(missing, ", "))
		return
	}
	h.Add(check, sdk.Healthy, "%s: %s", ns, strings.Join(names, ", "))
}

func checkQuota(ctx context.Context, s *session, h *sdk.Health, env, ns string) {
	check := env + " quota"
	q, err := s.Kube.Kube.CoreV1().ResourceQuotas(ns).Get(ctx, "lab-quota", metav1.GetOptions{})
	if err != nil {
		h.Add(check, sdk.Unhealthy, "%s: %v", ns, err)
		return
	}
	used, hard := q.Status.Used["requests.cpu"], q.Spec.Hard["requests.cpu"]
	h.Add(check, sdk.Healthy, "%s: requests.cpu %s of %s", ns, used.String(), hard.String())
}

func checkApplications(ctx context.Context, s *session, h *sdk.Health, e env) {
	for _, a := range applications(s.Config) {
		if a.Namespace != e.Namespace {
			continue
		}
		check := a.Name + " application"
		o, err := s.Kube.Dynamic.Resource(applicationsGVR).Namespace(argocdNamespace).Get(ctx, a.Name, metav1.GetOptions{})
		if err != nil {
			h.Add(check, sdk.Unhealthy, "%v", err)
			return
		}
		path := fmt.Sprint(o.Object["spec"].(map[string]any)["source"].(map[string]any)["path"])
		if s.Simulated() {
			h.SkipSimulated(check, fmt.Sprintf("Application %s/%s exists, from %s into %s; no Argo CD controller syncs here", argocdNamespace, a.Name, path, a.Namespace))
			continue
		}
		status, _ := o.Object["status"].(map[string]any)
		sync, _ := status["sync"].(map[string]any)
		health, _ := status["health"].(map[string]any)
		if sync["status"] == "Synced" && health["status"] == "Healthy" {
			h.Add(check, sdk.Healthy, "Synced and Healthy from %s", path)
		} else {
			h.Add(check, sdk.Unhealthy, "sync %v, health %v", sync["status"], health["status"])
		}
	}
}

func checkBackend(ctx context.Context, s *session, h *sdk.Health, e env) {
	check := e.Name + " nexo-be probes"
	if s.Simulated() {
		h.SkipSimulated(check, "")
		return
	}
	for _, path := range []string{"/health/ready", "/health/live"} {
		if _, err := s.Kube.ProbeService(ctx, e.Namespace, "nexo-be", "http", path); err != nil {
			h.Add(check, sdk.Unhealthy, "%v", err)
			return
		}
	}
	h.Add(check, sdk.Healthy, "/health/ready and /health/live answered in %s", e.Namespace)
}

func checkRealm(ctx context.Context, s *session, h *sdk.Health) {
	const check = "keycloak realm"
	if s.Simulated() {
		sec, err := s.Kube.Kube.CoreV1().Secrets(dataNamespace).Get(ctx, realmSecret, metav1.GetOptions{})
		what := "the realm import Secret is missing"
		if err == nil && len(sec.Data["nexo-realm.json"]) > 0 {
			what = fmt.Sprintf("the realm import is in Secret %s/%s", dataNamespace, realmSecret)
		}
		h.SkipSimulated(check, what)
		return
	}
	body, err := s.Kube.ProbeService(ctx, dataNamespace, "nexo-auth", "http", "/realms/"+realmName+"/.well-known/openid-configuration")
	if err != nil {
		h.Add(check, sdk.Unhealthy, "%v", err)
		return
	}
	if !strings.Contains(string(body), "/realms/"+realmName) {
		h.Add(check, sdk.Unhealthy, "the discovery document names no issuer of realm %s", realmName)
		return
	}
	h.Add(check, sdk.Healthy, "realm %s serves its OpenID discovery document", realmName)
}

func checkPostgres(ctx context.Context, s *session, h *sdk.Health) {
	const check = "postgres connections"
	if s.Simulated() {
		h.SkipSimulated(check, "")
		return
	}
	name, err := pod(ctx, s, "postgres")
	if err == nil {
		err = podexec.Pod{Config: s.Kube.Config, Kube: s.Kube.Kube, Namespace: dataNamespace, Name: name, Container: "postgres"}.
			Run(ctx, podexec.Command{Args: []string{"pg_isready", "-U", "postgres"}})
	}
	if err != nil {
		h.Add(check, sdk.Unhealthy, "%v", err)
		return
	}
	h.Add(check, sdk.Healthy, "%s/%s accepts connections", dataNamespace, name)
}

func checkRedis(ctx context.Context, s *session, h *sdk.Health) {
	const check = "redis ping"
	if s.Simulated() {
		h.SkipSimulated(check, "")
		return
	}
	t, err := clusterTargets(ctx, s)
	if err == nil {
		err = ping(ctx, t.Redis)
	}
	if err != nil {
		h.Add(check, sdk.Unhealthy, "%v", err)
		return
	}
	h.Add(check, sdk.Healthy, "Redis answered PING")
}

// ping sends AUTH and PING over a connection the Redis target dials.
func ping(ctx context.Context, r dbdump.Redis) error {
	conn, err := r.Dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	cmd := fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n", len(r.Password), r.Password)
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return err
	}
	buf := make([]byte, 64)
	got := ""
	for !strings.Contains(got, "PONG") {
		n, err := conn.Read(buf)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		got += string(buf[:n])
		if strings.HasPrefix(got, "-") {
			return fmt.Errorf("redis: %s", strings.TrimSpace(got))
		}
	}
	return nil
}
