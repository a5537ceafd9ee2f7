package harbor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }

// The plugin, as a real process over go-plugin, installs the REAL harbor 1.19.1 chart,
// becomes healthy (the checks that need a running Harbor skipped), re-applies without a
// new Helm revision and uninstalls.
func TestConformanceWithRealChart(t *testing.T) {
	provisionVolumes(t)
	sdktest.Run(t, sdktest.Options{
		Binary:  testenv.BuildPlugin(t, "harbor"),
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
		Config:  map[string]any{"namespace": "harbor-conformance"},
		Charts:  map[string]sdk.ChartOverride{"harbor": {Repository: testenv.UpstreamRepo(t)}},
	})
}

// The whole life of the stack on kwok with the real chart, checked as a user would:
// apply, the quota, no default secret in any object of the namespace, the pull secrets
// in the application namespaces that exist (and a later apply catching up), health, a
// no-op re-apply, backup, uninstall and a purge.
func TestLifecycleWithRealChart(t *testing.T) {
	repo := testenv.UpstreamRepo(t)
	provisionVolumes(t)
	ctx := t.Context()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	for _, ns := range []string{"nexo-local", "nexo-qa"} {
		require.NoError(t, c.EnsureNamespace(ctx, ns, nil))
	}
	t.Cleanup(func() {
		for _, ns := range defaultNamespaces {
			_ = c.DeleteNamespace(context.Background(), ns)
		}
	})
	waitDefaultServiceAccount(t, c, "nexo-local", "nexo-qa")
	// The lab's certificate, as apply publishes it before any stack runs.
	_, err = c.Kube.CoreV1().Secrets(labca.SecretNamespace).Get(ctx, labca.SecretName, metav1.GetOptions{})
	require.True(t, kube.IgnoreNotFound(err) == nil && err != nil, "no lab certificate yet")
	require.NoError(t, c.EnsureNamespace(ctx, labca.SecretNamespace, nil))
	_, err = c.Kube.CoreV1().Secrets(labca.SecretNamespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: labca.SecretName}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("lab leaf"), "tls.key": []byte("lab key"), labca.CAKey: []byte("lab CA")}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Kube.CoreV1().Secrets(labca.SecretNamespace).Delete(context.Background(), labca.SecretName, metav1.DeleteOptions{})
	})

	st := New()
	cfg := st.Config().(*Config)
	req := &sdk.Request{Stack: "harbor", Cluster: cluster.Conn, Lab: sdk.Lab{Name: "test", Domain: "test.local"}, Config: cfg,
		Charts:  map[string]sdk.ChartOverride{"harbor": {Repository: repo}},
		OnEvent: func(e sdk.Event) { t.Logf("%s: %s", e.Step, e.Message) }}
	installCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	first, err := st.Install(installCtx, req)
	if err != nil {
		explain(t, c, cfg.Namespace)
	}
	require.NoError(t, err)
	require.Len(t, first.Releases, 1)
	t.Cleanup(func() {
		_, _ = st.Uninstall(context.Background(), &sdk.Request{Stack: "harbor", Cluster: cluster.Conn, Config: cfg, PurgeData: true})
	})
	ns := cfg.Namespace
	assert.Equal(t, "harbor-system", ns)

	t.Run("quota", func(t *testing.T) {
		q, err := c.Kube.CoreV1().ResourceQuotas(ns).Get(ctx, "lab-quota", metav1.GetOptions{})
		require.NoError(t, err)
		for k, want := range map[string]string{"requests.cpu": "1", "requests.memory": "2Gi", "limits.cpu": "2", "limits.memory": "4Gi"} {
			got := q.Spec.Hard[corev1.ResourceName(k)]
			assert.Equal(t, want, got.String(), k)
		}
		pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, len(pods.Items), 7, "core, portal, registry, jobservice, database, redis, trivy run inside the quota")
	})

	t.Run("the lab's certificate", func(t *testing.T) {
		ing, err := c.Kube.NetworkingV1().Ingresses(ns).Get(ctx, releaseName+"-ingress", metav1.GetOptions{})
		require.NoError(t, err)
		require.Len(t, ing.Spec.TLS, 1)
		assert.Equal(t, tlsSecret, ing.Spec.TLS[0].SecretName)
		assert.Equal(t, []string{"harbor.test.local"}, ing.Spec.TLS[0].Hosts)
		copyOf, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, tlsSecret, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "lab CA", string(copyOf.Data[labca.CAKey]))
		assert.Equal(t, labca.SecretName, copyOf.Labels[labca.CopyLabel], "apply refreshes the copy on renewal")
		_, err = c.Kube.CoreV1().Secrets(ns).Get(ctx, releaseName+"-ingress", metav1.GetOptions{})
		assert.True(t, kube.IgnoreNotFound(err) == nil && err != nil, "the chart makes no certificate of its own")
	})

	t.Run("credentials", func(t *testing.T) {
		creds, err := c.Credentials(ctx)
		require.NoError(t, err)
		byUI := map[string]kube.Credential{}
		for _, cr := range creds {
			byUI[cr.UI] = cr
		}
		assert.Equal(t, "admin", byUI["harbor"].Username)
		assert.Len(t, byUI["harbor"].Password, 24)
		robot := byUI["harbor-robot-nexo"]
		assert.Equal(t, "robot$nexo+ci", robot.Username)
		assert.Equal(t, "https://harbor.test.local", robot.URL)
		assert.True(t, strings.HasPrefix(robot.Login, "docker login harbor.test.local -u 'robot$nexo+ci' --password-stdin"), robot.Login)
		assert.NotContains(t, robot.Login, robot.Password)
	})

	t.Run("no default secret", func(t *testing.T) { assertNoDefaultSecrets(t, c, ns, req) })

	t.Run("pull secrets", func(t *testing.T) {
		// harbor-system holds the copy a stack making its namespaces later copies from.
		for _, app := range []string{"nexo-local", "nexo-qa", ns} {
			assertPulls(t, c, app)
		}
		_, err := c.Kube.CoreV1().Namespaces().Get(ctx, "nexo-staging", metav1.GetOptions{})
		assert.True(t, kube.IgnoreNotFound(err) == nil && err != nil, "an absent namespace is not created")
	})

	t.Run("health", func(t *testing.T) {
		h, err := st.Health(ctx, req)
		require.NoError(t, err)
		got := map[string]sdk.Status{}
		for _, ch := range h.Checks {
			got[ch.Name] = ch.Status
		}
		want := map[string]sdk.Status{"robot logins": sdk.Healthy, "pull secrets": sdk.Healthy,
			"harbor components": sdk.Skipped, "trivy scanner": sdk.Skipped, "projects": sdk.Skipped}
		for _, ro := range rollouts {
			want[ro.Check] = sdk.Healthy
		}
		assert.Equal(t, want, got)
		assert.Equal(t, sdk.Healthy, h.Status())
	})

	t.Run("no-op re-apply", func(t *testing.T) {
		again, err := st.Install(ctx, req)
		require.NoError(t, err)
		assert.False(t, again.Changed)
		assert.Equal(t, first.Releases[0].Revision, again.Releases[0].Revision, "no new Helm revision")
	})

	t.Run("a later apply catches up", func(t *testing.T) {
		require.NoError(t, c.EnsureNamespace(ctx, "nexo-staging", nil))
		waitDefaultServiceAccount(t, c, "nexo-staging")
		again, err := st.Install(ctx, req)
		require.NoError(t, err)
		assert.True(t, again.Changed)
		assert.Equal(t, first.Releases[0].Revision, again.Releases[0].Revision, "the chart is not upgraded for a pull secret")
		assertPulls(t, c, "nexo-staging")
	})

	t.Run("backup", func(t *testing.T) {
		dir := t.TempDir()
		res, err := st.Backup(ctx, &sdk.Request{Stack: "harbor", Cluster: cluster.Conn, Config: cfg, Dir: dir})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"secrets.yaml", "credentials.yaml"}, res.Files, "on kwok no database runs to dump")
		for file, names := range map[string][]string{"secrets.yaml": {secretsName, tokenSecret}, "credentials.yaml": {adminSecret, robotSecretName("nexo")}} {
			fi, err := os.Stat(filepath.Join(dir, file))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), file)
			b, err := os.ReadFile(filepath.Join(dir, file))
			require.NoError(t, err)
			for _, n := range names {
				assert.Contains(t, string(b), "name: "+n, file)
			}
		}
	})

	t.Run("uninstall keeps the data", func(t *testing.T) {
		_, err := st.Uninstall(ctx, req)
		require.NoError(t, err)
		rel, err := helm.New(c).Deployed(releaseName, ns)
		require.NoError(t, err)
		assert.Nil(t, rel, "the release is gone")
		for _, app := range []string{"nexo-local", "nexo-qa", "nexo-staging"} {
			_, err := c.Kube.CoreV1().Secrets(app).Get(ctx, pullSecretName("nexo"), metav1.GetOptions{})
			assert.True(t, kube.IgnoreNotFound(err) == nil && err != nil, "pull secret of %s removed", app)
			sa, err := c.Kube.CoreV1().ServiceAccounts(app).Get(ctx, "default", metav1.GetOptions{})
			require.NoError(t, err)
			assert.Empty(t, sa.ImagePullSecrets, app)
		}
		for _, name := range []string{secretsName, adminSecret, robotSecretName("nexo")} {
			_, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
			assert.NoError(t, err, "%s kept with the data", name)
		}
	})

	t.Run("purge", func(t *testing.T) {
		_, err := st.Uninstall(ctx, &sdk.Request{Stack: "harbor", Cluster: cluster.Conn, Config: cfg, PurgeData: true})
		require.NoError(t, err)
		_, err = c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		assert.True(t, kube.IgnoreNotFound(err) == nil && err != nil, "namespace %s deleted with its data", ns)
	})
}

// explain logs why the namespace's pods are not ready: their phase and the warnings.
func explain(t *testing.T, c *kube.Client, ns string) {
	ctx := context.Background()
	if pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s: %s", p.Name, p.Status.Phase)
		}
	}
	if evs, err := c.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"}); err == nil {
		for _, e := range evs.Items {
			t.Logf("%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
		}
	}
}

// assertPulls checks a namespace pulls from Harbor with the nexo robot.
func assertPulls(t *testing.T, c *kube.Client, ns string) {
	t.Helper()
	ctx := t.Context()
	sec, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, pullSecretName("nexo"), metav1.GetOptions{})
	require.NoError(t, err, ns)
	login, err := c.Kube.CoreV1().Secrets("harbor-system").Get(ctx, robotSecretName("nexo"), metav1.GetOptions{})
	require.NoError(t, err)
	assert.JSONEq(t, mustDockerConfig(t, "harbor.test.local", "robot$nexo+ci", string(login.Data[kube.PasswordKey])),
		string(sec.Data[".dockerconfigjson"]), ns)
	sa, err := c.Kube.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
	require.NoError(t, err)
	var names []string
	for _, r := range sa.ImagePullSecrets {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{pullSecretName("nexo")}, names, ns)
}

func waitDefaultServiceAccount(t *testing.T, c *kube.Client, nss ...string) {
	t.Helper()
	for _, ns := range nss {
		require.Eventually(t, func() bool {
			_, err := c.Kube.CoreV1().ServiceAccounts(ns).Get(t.Context(), "default", metav1.GetOptions{})
			return err == nil
		}, 30*time.Second, 100*time.Millisecond, "default ServiceAccount of %s", ns)
	}
}

// chartSecretDefaults are the chart's default values of every secret-looking key of its
// reference values.yaml, read from the file.
func chartSecretDefaults(t *testing.T) map[string]string {
	b, err := os.ReadFile("../../../shared/refs/charts/harbor/values.yaml")
	if os.IsNotExist(err) {
		t.Skip("the chart's reference values are not here")
	}
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, yaml.Unmarshal(b, &v))
	out := map[string]string{}
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, e := range t {
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case string:
			key := path[strings.LastIndex(path, ".")+1:]
			if t != "" && secretLooking(key) {
				out[t] = path
			}
		}
	}
	walk("", v)
	return out
}
