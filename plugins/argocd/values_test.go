package argocd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helm/chartkeys"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// releaseOf is the one release the stack renders for a request, without a cluster.
func releaseOf(t *testing.T, req *sdk.Request) helm.Release {
	t.Helper()
	if req.Config == nil {
		req.Config = New().Config()
	}
	rels, err := New().Releases(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	return rels[0]
}

// Every key the plugin sets exists in the chart's reference values.
func TestValuesUseOnlyChartKeys(t *testing.T) {
	r := releaseOf(t, &sdk.Request{Lab: sdk.Lab{Domain: "nexo.local"}})
	keys, err := chartkeys.Load(r.Chart.Name, r.Chart.Version)
	require.NoError(t, err)
	// configs.params becomes argocd-cmd-params-cm as is: the chart documents it as the place
	// for any Argo CD parameter ("You can customize parameters by adding parameters here"),
	// and its values.yaml lists none of them (server.insecure among them).
	assert.Empty(t, keys.Unknown(r.Values, "configs.params"), "keys not in %s %s", r.Chart.Name, r.Chart.Version)
}

func TestValuesPutServerBehindTheIngress(t *testing.T) {
	out := helm.YAML(releaseOf(t, &sdk.Request{Lab: sdk.Lab{Domain: "nexo.local"}}).Values)
	var got struct {
		Global  struct{ Domain string }
		Configs struct {
			CM     map[string]any `json:"cm"`
			Params map[string]any `json:"params"`
		}
		Dex    struct{ Enabled bool }
		Server struct {
			Ingress struct {
				Enabled          bool
				Hostname         string
				IngressClassName *string `json:"ingressClassName"`
			}
		}
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &got))
	assert.Equal(t, "argocd.nexo.local", got.Global.Domain)
	assert.Equal(t, true, got.Configs.Params["server.insecure"], "TLS ends at the ingress")
	assert.Equal(t, "180s", got.Configs.CM["timeout.reconciliation"], "the repository is polled every 3 minutes")
	assert.False(t, got.Dex.Enabled)
	assert.True(t, got.Server.Ingress.Enabled)
	assert.Equal(t, "argocd.nexo.local", got.Server.Ingress.Hostname)
	assert.Nil(t, got.Server.Ingress.IngressClassName, "the cluster's default class is used")
}

// Every container of the chart gets resources, and together they fit the namespace quota,
// also while every RollingUpdate Deployment has its extra pod during an upgrade.
func TestResourcesFitTheQuota(t *testing.T) {
	v := releaseOf(t, &sdk.Request{}).Values
	for _, path := range [][]string{{"controller"}, {"server"}, {"repoServer"}, {"repoServer", "copyutil"},
		{"applicationSet"}, {"notifications"}, {"redis"}, {"redisSecretInit"}} {
		m := v
		for _, k := range path {
			m = m[k].(map[string]any)
		}
		res, ok := m["resources"].(map[string]any)
		require.True(t, ok, "%s has no resources", strings.Join(path, "."))
		assert.Contains(t, res, "requests")
		assert.Contains(t, res, "limits")
	}
	f := New().Info().Footprint
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 250, MemoryRequestBytes: 328 << 20,
		CPULimitMillis: 1300, MemoryLimitBytes: 1344 << 20}, f)
	var surge []kube.Container
	for _, c := range containers {
		if slices.Contains(surging, c.Name) {
			c.Replicas = 1
			surge = append(surge, c)
		}
	}
	require.Len(t, surge, len(surging), "every surging container is one of the chart's")
	extra, _ := kube.FootprintOf(surge)
	// The quota, read as one container of its size.
	limit, _ := kube.FootprintOf([]kube.Container{{Replicas: 1, CPU: quota.RequestsCPU, Memory: quota.RequestsMemory,
		CPULimit: quota.LimitsCPU, MemoryLimit: quota.LimitsMemory}})
	fits(t, f.Plus(extra, 1), limit, "upgrade")
	// The hook Job runs alone before a rollout; the init container is smaller than its pod.
	for _, c := range containers {
		if c.Replicas == 0 {
			c.Replicas = 1
			alone, _ := kube.FootprintOf([]kube.Container{c})
			fits(t, f.Plus(alone, 1), limit, c.Name)
		}
	}
}

func fits(t *testing.T, f, limit sdk.Footprint, what string) {
	t.Helper()
	assert.LessOrEqual(t, f.CPURequestMillis, limit.CPURequestMillis, what)
	assert.LessOrEqual(t, f.MemoryRequestBytes, limit.MemoryRequestBytes, what)
	assert.LessOrEqual(t, f.CPULimitMillis, limit.CPULimitMillis, what)
	assert.LessOrEqual(t, f.MemoryLimitBytes, limit.MemoryLimitBytes, what)
}

func TestChartOverrideMergesOverGeneratedValues(t *testing.T) {
	r := releaseOf(t, &sdk.Request{Charts: map[string]sdk.ChartOverride{"argo-cd": {
		Repository: "oci://mirror.example/charts", Version: "10.1.2",
		Values: map[string]any{"server": map[string]any{"replicas": 2}},
	}}})
	assert.Equal(t, "oci://mirror.example/charts", r.Chart.Repository)
	assert.Equal(t, "10.1.2", r.Chart.Version)
	server := r.Values["server"].(map[string]any)
	assert.Equal(t, 2, server["replicas"])
	assert.Equal(t, true, server["ingress"].(map[string]any)["enabled"], "generated values stay")
	assert.True(t, r.UpgradeCRDs)
}

// Render shows no password: without a cluster there is only a placeholder, and the hash
// is masked like any secret.
func TestRenderWithoutClusterShowsNoSecret(t *testing.T) {
	s := New()
	charts, err := s.Render(context.Background(), &sdk.Request{Config: s.Config(), Lab: sdk.Lab{Domain: "nexo.local"}})
	require.NoError(t, err)
	require.Len(t, charts, 1)
	out := charts[0].ValuesYAML
	assert.Contains(t, out, "argocdServerAdminPassword: "+helm.Masked)
	assert.NotContains(t, out, "$2a$")
	assert.Equal(t, "argo-cd", charts[0].Chart)
	assert.Equal(t, "10.1.1", charts[0].Version)
}

// A map attribute sent by the host replaces the default map: an Application removed from
// lab.hcl is gone from the config, not merged back from the defaults.
func TestApplicationsFromTheHostReplaceTheDefaults(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"applications": map[string]string{"only": "apps/only"}})
	cfg := New().Config().(*Config)
	require.NoError(t, sdk.DecodeConfig(raw, cfg))
	assert.Equal(t, map[string]string{"only": "apps/only"}, cfg.Applications)
	assert.Empty(t, New().Config().(*Config).Applications, "the nexo-apps stack makes the Nexo applications")
}

// Each rule beyond the schema is reported at its attribute, which lab validate turns into
// lab.hcl's file:line:col.
func TestValidateNamesTheAttribute(t *testing.T) {
	for name, tc := range map[string]struct {
		mod        func(*Config)
		attr, want string
	}{
		"no repository":   {func(c *Config) { c.RepoURL = "" }, "repo_url", "repo_url"},
		"poll interval":   {func(c *Config) { c.PollInterval = "often" }, "poll_interval", "poll_interval"},
		"two secrets":     {func(c *Config) { c.RepoUsername, c.RepoPasswordEnv, c.RepoPasswordFile = "bot", "X", "/x" }, "repo_password_env", "only one"},
		"secret, no user": {func(c *Config) { c.RepoPasswordFile = "/x" }, "repo_username", "repo_username"},
		"bad app name":    {func(c *Config) { c.Applications = map[string]string{"Bad_Name": "apps/x"} }, "applications.Bad_Name", "Bad_Name"},
		"absolute path":   {func(c *Config) { c.Applications = map[string]string{"x": "/etc"} }, "applications.x", "relative path"},
		"path goes above": {func(c *Config) { c.Applications = map[string]string{"x": "apps/../../x"} }, "applications.x", "relative path"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := New().Config().(*Config)
			tc.mod(cfg)
			d := New().Validate(context.Background(), &sdk.Request{Config: cfg})
			require.Len(t, d, 1, "%v", d)
			assert.Equal(t, tc.attr, d[0].Attribute)
			assert.Equal(t, sdk.SeverityError, d[0].Severity)
			assert.Contains(t, d.Err().Error(), tc.want)
			// Install refuses it too, before it needs a cluster.
			_, err := New().Install(context.Background(), &sdk.Request{Config: cfg})
			assert.ErrorContains(t, err, tc.want)
		})
	}
	cfg := New().Config().(*Config)
	withApps(cfg)
	assert.Empty(t, New().Validate(context.Background(), &sdk.Request{Config: cfg}), "the defaults and the Nexo applications are valid")
	p, err := reconciliation("1h30m")
	require.NoError(t, err)
	assert.Equal(t, "5400s", p)
}

func TestRepositoryPasswordComesFromAFileOrTheEnvironment(t *testing.T) {
	cfg := New().Config().(*Config)
	pw, err := repoPassword(cfg)
	require.NoError(t, err)
	assert.Empty(t, pw, "a public repository needs none")

	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("s3cret-token\n"), 0o600))
	cfg.RepoPasswordFile = file
	d := New().Validate(context.Background(), &sdk.Request{Config: cfg})
	require.ErrorContains(t, d.Err(), "repo_username")
	cfg.RepoUsername = "bot"
	require.Empty(t, New().Validate(context.Background(), &sdk.Request{Config: cfg}))
	pw, err = repoPassword(cfg)
	require.NoError(t, err)
	assert.Equal(t, "s3cret-token", pw, "the trailing newline of the file is not part of it")

	cfg.RepoPasswordFile, cfg.RepoPasswordEnv = "", "LAB_TEST_ARGOCD_TOKEN"
	t.Setenv("LAB_TEST_ARGOCD_TOKEN", "")
	_, err = repoPassword(cfg)
	require.ErrorContains(t, err, "LAB_TEST_ARGOCD_TOKEN")
	t.Setenv("LAB_TEST_ARGOCD_TOKEN", "env-token")
	pw, err = repoPassword(cfg)
	require.NoError(t, err)
	assert.Equal(t, "env-token", pw)
}

// On a cluster: the admin password is generated once, Argo CD gets its bcrypt hash, the
// hash is reused by the next install, and Render shows neither.
func TestAdminPasswordIsAStableBcryptHash(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, nil)
	c := connect(t)

	cred, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, adminSecret, metav1.GetOptions{})
	require.NoError(t, err)
	password := cred.Data[kube.PasswordKey]
	require.Len(t, password, 24)
	assert.Equal(t, "admin", string(cred.Data[kube.UsernameKey]))
	assert.Equal(t, "https://argocd.test.local", string(cred.Data[kube.URLKey]))
	assert.Equal(t, "argocd", cred.Labels[kube.CredentialsLabel], "`lab credentials` lists it")

	argo, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, "argocd-secret", metav1.GetOptions{})
	require.NoError(t, err)
	hash := argo.Data["admin.password"]
	require.NoError(t, bcrypt.CompareHashAndPassword(hash, password), "Argo CD's hash verifies the generated password")
	assert.Equal(t, string(cred.Data[mtimeKey]), string(argo.Data["admin.passwordMtime"]))

	again, err := s.Install(ctx, req)
	require.NoError(t, err)
	assert.False(t, again.Changed, "the stored hash is reused")
	argo, err = c.Kube.CoreV1().Secrets(namespace).Get(ctx, "argocd-secret", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, hash, argo.Data["admin.password"])

	charts, err := s.Render(ctx, req)
	require.NoError(t, err)
	out := charts[0].ValuesYAML
	assert.NotContains(t, out, string(password))
	assert.NotContains(t, out, string(hash))
	assert.Contains(t, out, "argocdServerAdminPassword: "+helm.Masked)

	h, err := s.Health(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, sdk.Healthy, statusOf(h, "admin password"))
}
