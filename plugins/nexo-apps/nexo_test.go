package nexoapps

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }

const domain = "nexo.test"

func request(t *testing.T, cfg *Config) *sdk.Request {
	playProvisioner(t)
	return &sdk.Request{Stack: "nexo-apps", Cluster: cluster.Conn, Lab: sdk.Lab{Name: "test", Domain: domain}, Config: cfg,
		OnEvent: func(e sdk.Event) { t.Logf("%s: %s", e.Step, e.Message) }}
}

func connect(t *testing.T) *kube.Client {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	return c
}

func statuses(h *sdk.Health) map[string]sdk.Status {
	out := map[string]sdk.Status{}
	for _, c := range h.Checks {
		out[c.Name] = c.Status
	}
	return out
}

// The whole life of the stack on kwok with Helm delivery: every object in place, health,
// a no-op re-apply, an environment taken out, uninstall.
func TestApplyHealthNoopRemoveEnvironmentUninstall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := connect(t)
	st := New()
	cfg := defaults()
	cfg.Delivery = "helm"
	cfg.Environment = map[string]EnvConfig{"prod": {Replicas: 3, Tag: "1.4.2"}}
	req := request(t, cfg)
	res, err := st.Install(ctx, req)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	t.Cleanup(func() {
		req.PurgeData = true
		_, _ = st.Uninstall(context.Background(), req)
	})

	for _, e := range []struct{ env, ns string }{{"develop", "nexo-local"}, {"qa", "nexo-qa"}, {"staging", "nexo-staging"}, {"prod", "nexo-prod"}} {
		ing, err := c.Kube.NetworkingV1().Ingresses(e.ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		var hosts []string
		for _, i := range ing.Items {
			for _, r := range i.Spec.Rules {
				hosts = append(hosts, r.Host)
			}
		}
		assert.ElementsMatch(t, []string{e.env + "." + domain, e.env + ".api." + domain}, hosts, e.ns)

		fe, err := c.Kube.AppsV1().Deployments(e.ns).Get(ctx, "nexo-fe", metav1.GetOptions{})
		require.NoError(t, err)
		env := map[string]string{}
		for _, v := range fe.Spec.Template.Spec.Containers[0].Env {
			env[v.Name] = v.Value
		}
		assert.Equal(t, "http://"+e.env+".api."+domain, env["NEXT_PUBLIC_API_URL"])
		assert.Equal(t, "http://"+e.env+".auth."+domain+"/realms/nexo", env["NEXT_PUBLIC_AUTH_URL"])
		assert.False(t, *fe.Spec.Template.Spec.AutomountServiceAccountToken, "nexo-fe needs no API token")
		assert.Equal(t, "nexo-fe", fe.Spec.Template.Spec.ServiceAccountName)

		be, err := c.Kube.AppsV1().Deployments(e.ns).Get(ctx, "nexo-be", metav1.GetOptions{})
		require.NoError(t, err)
		ct := be.Spec.Template.Spec.Containers[0]
		assert.Equal(t, "/health/live", ct.LivenessProbe.HTTPGet.Path)
		assert.Equal(t, "/health/ready", ct.ReadinessProbe.HTTPGet.Path)
		assert.Equal(t, "1", ct.Resources.Limits.Cpu().String())
		assert.Equal(t, "1Gi", ct.Resources.Limits.Memory().String())
		assert.Equal(t, 0, be.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue(), "zero unavailable replicas")
		assert.Equal(t, beSecret, ct.EnvFrom[0].SecretRef.Name)
		wantReplicas, wantTag := int32(2), "latest"
		if e.env == "prod" {
			wantReplicas, wantTag = 3, "1.4.2"
		}
		assert.Equal(t, wantReplicas, *be.Spec.Replicas, e.ns)
		assert.Equal(t, "harbor."+domain+"/nexo/nexo-be:"+wantTag, ct.Image)

		sec, err := c.Kube.CoreV1().Secrets(e.ns).Get(ctx, beSecret, metav1.GetOptions{})
		require.NoError(t, err)
		db := "nexo"
		if e.env != "develop" {
			db = "nexo_" + e.env
		}
		assert.Equal(t, db, string(sec.Data["DATABASE_NAME"]))
		assert.Len(t, sec.Data["DATABASE_PASSWORD"], 32)
		assert.Len(t, sec.Data["KEYCLOAK_CLIENT_SECRET"], 40)

		sa, err := c.Kube.CoreV1().ServiceAccounts(e.ns).Get(ctx, "nexo-be", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "harbor-pull-nexo", sa.ImagePullSecrets[0].Name, "pulls the team's images from Harbor")
		role, err := c.Kube.RbacV1().Roles(e.ns).Get(ctx, "nexo-be", metav1.GetOptions{})
		require.NoError(t, err)
		require.Len(t, role.Rules, 1)
		assert.Equal(t, []string{"nexo-be"}, role.Rules[0].ResourceNames, "nexo-be reads its own ConfigMap and nothing else")
		assert.Equal(t, []string{"get", "watch"}, role.Rules[0].Verbs)
		_, err = c.Kube.RbacV1().Roles(e.ns).Get(ctx, "nexo-fe", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "nexo-fe needs no Role")

		pols, err := c.Kube.NetworkingV1().NetworkPolicies(e.ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		assert.Len(t, pols.Items, 3, e.ns)
		q, err := c.Kube.CoreV1().ResourceQuotas(e.ns).Get(ctx, "lab-quota", metav1.GetOptions{})
		require.NoError(t, err)
		hard := q.Spec.Hard["requests.cpu"]
		assert.Equal(t, "2", hard.String())
	}
	// The shared services: Keycloak serves every environment's auth host.
	ing, err := c.Kube.NetworkingV1().Ingresses(dataNamespace).Get(ctx, "nexo-auth", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Len(t, ing.Spec.Rules, 4)
	for _, sts := range []string{"postgres", "redis"} {
		s, err := c.Kube.AppsV1().StatefulSets(dataNamespace).Get(ctx, sts, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "local-path", *s.Spec.VolumeClaimTemplates[0].Spec.StorageClassName)
	}

	// Who may reach the shared services: PostgreSQL nexo-be (every environment) and
	// Keycloak; Redis nexo-be only.
	peers := func(name string) []string {
		p, err := c.Kube.NetworkingV1().NetworkPolicies(dataNamespace).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		var out []string
		for _, r := range p.Spec.Ingress {
			for _, f := range r.From {
				ns := "same"
				if f.NamespaceSelector != nil {
					ns = strings.Join(f.NamespaceSelector.MatchExpressions[0].Values, ",")
				}
				out = append(out, ns+"/"+strings.Join(f.PodSelector.MatchExpressions[0].Values, ",")+":"+r.Ports[0].Port.String())
			}
		}
		return out
	}
	envs := "nexo-local,nexo-qa,nexo-staging,nexo-prod"
	assert.Equal(t, []string{envs + "/nexo-be:postgres", "same/nexo-auth:postgres"}, peers("allow-postgres"))
	assert.Equal(t, []string{envs + "/nexo-be:redis"}, peers("allow-redis"))

	h, err := st.Health(ctx, req)
	require.NoError(t, err)
	got := statuses(h)
	assert.Equal(t, sdk.Healthy, h.Status(), "%v", h.Checks)
	assert.Equal(t, sdk.Healthy, got["nexo-be-qa rollout"])
	assert.Equal(t, sdk.Healthy, got["prod network policies"])
	assert.Equal(t, sdk.Skipped, got["keycloak realm"])
	assert.Equal(t, sdk.Skipped, got["postgres connections"])
	assert.Equal(t, sdk.Skipped, got["redis ping"])
	assert.Equal(t, sdk.Skipped, got["develop nexo-be probes"])

	res, err = st.Install(ctx, request(t, cfg))
	require.NoError(t, err)
	assert.False(t, res.Changed, "a re-apply with nothing to do changes nothing")

	cfg.Environments = []string{"develop", "qa", "prod"}
	res, err = st.Install(ctx, request(t, cfg))
	require.NoError(t, err)
	assert.True(t, res.Changed)
	_, err = c.Kube.CoreV1().Namespaces().Get(ctx, "nexo-staging", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the namespace of staging is gone: %v", err)
	_, err = c.Kube.CoreV1().Namespaces().Get(ctx, "nexo-qa", metav1.GetOptions{})
	assert.NoError(t, err)

	res, err = st.Uninstall(ctx, request(t, cfg))
	require.NoError(t, err)
	assert.Contains(t, res.Summary, "nexo-data kept with its data")
	for _, ns := range []string{"nexo-local", "nexo-qa", "nexo-prod"} {
		_, err = c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), ns)
	}
	users, err := c.Kube.CoreV1().Secrets(dataNamespace).Get(ctx, usersSecret, metav1.GetOptions{})
	require.NoError(t, err, "the generated passwords stay with the data")
	assert.Contains(t, users.Data, "nexo_staging")
}

// No generated password is in any release's values or in any ConfigMap the stack makes.
func TestNoPasswordInValuesOrConfigMaps(t *testing.T) {
	ctx := context.Background()
	c := connect(t)
	st := New()
	cfg := defaults()
	cfg.Delivery = "helm"
	cfg.ThemesDir = t.TempDir()
	writeTheme(t, cfg.ThemesDir)
	req := request(t, cfg)
	_, err := st.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() {
		req.PurgeData = true
		_, _ = st.Uninstall(context.Background(), req)
	})

	var passwords []string
	for _, name := range []string{postgresSecret, usersSecret, redisSecret, adminSecret, clientsSecret} {
		sec, err := c.Kube.CoreV1().Secrets(dataNamespace).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		for k, v := range sec.Data {
			if k != kube.UsernameKey && k != kube.URLKey && k != "auth.conf" {
				passwords = append(passwords, string(v))
			}
		}
	}
	require.Len(t, passwords, 1+5+1+1+1, "superuser, 5 database users, redis, keycloak admin, nexo-be client")

	rels, err := st.Releases(ctx, request(t, cfg))
	require.NoError(t, err)
	require.Len(t, rels, 3+2*4)
	var texts []string
	for _, r := range rels {
		texts = append(texts, helm.YAML(r.Values))
		rel, err := helm.New(c).Deployed(r.Name, r.Namespace)
		require.NoError(t, err)
		texts = append(texts, helm.YAML(rel.Config), rel.Manifest)
	}
	cms, err := c.Kube.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{LabelSelector: kube.StackLabel + "=nexo-apps"})
	require.NoError(t, err)
	require.NotEmpty(t, cms.Items)
	for _, cm := range cms.Items {
		for _, v := range cm.Data {
			texts = append(texts, v)
		}
	}
	for _, p := range passwords {
		for _, text := range texts {
			require.False(t, strings.Contains(text, p), "a generated password is in a value, manifest or ConfigMap")
		}
	}
	theme, err := c.Kube.CoreV1().ConfigMaps(dataNamespace).Get(ctx, themeConfig, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, theme.Data, "login__theme.properties")
	kc, err := c.Kube.AppsV1().Deployments(dataNamespace).Get(ctx, "nexo-auth", metav1.GetOptions{})
	require.NoError(t, err)
	var items []string
	for _, v := range kc.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == themeConfig {
			for _, it := range v.ConfigMap.Items {
				items = append(items, it.Key+"=>"+it.Path)
			}
		}
	}
	assert.Contains(t, items, "login__resources__css__nexo.css=>login/resources/css/nexo.css", "the theme is served from /opt/keycloak/themes/nexo")
	realm, err := c.Kube.CoreV1().Secrets(dataNamespace).Get(ctx, realmSecret, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(realm.Data["nexo-realm.json"]), `"loginTheme": "nexo"`)
}

func TestConformance(t *testing.T) {
	playProvisioner(t)
	sdktest.Run(t, sdktest.Options{
		Binary:  testenv.BuildPlugin(t, "nexo-apps"),
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: domain},
		Config:  map[string]any{"environments": []string{"develop", "qa"}, "delivery": "helm"},
		Timeout: 5 * time.Minute,
	})
}
