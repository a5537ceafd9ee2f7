package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/kube/chartkeys"
	"github.com/nexolab/lab/core/sdk"
)

func testAdmin(t *testing.T, password string) admin {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	return admin{hash: string(h), mtime: "2026-01-02T15:04:05Z"}
}

// Every key the plugin sets exists in the chart's reference values.
func TestValuesUseOnlyChartKeys(t *testing.T) {
	cfg := New().Config().(*Config)
	req := &sdk.Request{Lab: sdk.Lab{Domain: "nexo.local"}}
	r, err := release(cfg, req, testAdmin(t, "pw"))
	require.NoError(t, err)
	keys, err := chartkeys.Load(r.Chart.Name, r.Chart.Version)
	require.NoError(t, err)
	// configs.params becomes argocd-cmd-params-cm as is: the chart documents it as the place
	// for any Argo CD parameter ("You can customize parameters by adding parameters here"),
	// and its values.yaml lists none of them (server.insecure among them).
	assert.Empty(t, keys.Unknown(r.Values, "configs.params"), "keys not in %s %s", r.Chart.Name, r.Chart.Version)
}

func TestValuesPutServerBehindTheIngress(t *testing.T) {
	cfg := New().Config().(*Config)
	v, err := values(cfg, &sdk.Request{Lab: sdk.Lab{Domain: "nexo.local"}}, testAdmin(t, "pw"))
	require.NoError(t, err)
	out := kube.YAML(v)
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
	cfg := New().Config().(*Config)
	v, err := values(cfg, &sdk.Request{}, testAdmin(t, "pw"))
	require.NoError(t, err)
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
	f := footprint()
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 250, MemoryRequestBytes: 328 << 20,
		CPULimitMillis: 1300, MemoryLimitBytes: 1344 << 20}, f)
	peak := f
	for _, c := range components {
		if c.surge {
			peak.CPURequestMillis += milli(c.reqCPU)
			peak.MemoryRequestBytes += bytesOf(c.reqMem)
			peak.CPULimitMillis += milli(c.limCPU)
			peak.MemoryLimitBytes += bytesOf(c.limMem)
		}
	}
	assert.LessOrEqual(t, peak.CPURequestMillis, milli(quota.RequestsCPU))
	assert.LessOrEqual(t, peak.MemoryRequestBytes, bytesOf(quota.RequestsMemory))
	assert.LessOrEqual(t, peak.CPULimitMillis, milli(quota.LimitsCPU))
	assert.LessOrEqual(t, peak.MemoryLimitBytes, bytesOf(quota.LimitsMemory))
	// The hook Job runs alone before a rollout; the init container is smaller than its pod.
	for _, c := range components {
		if !c.steady {
			assert.LessOrEqual(t, f.CPURequestMillis+milli(c.reqCPU), milli(quota.RequestsCPU))
			assert.LessOrEqual(t, f.MemoryRequestBytes+bytesOf(c.reqMem), bytesOf(quota.RequestsMemory))
		}
	}
}

func TestChartOverrideMergesOverGeneratedValues(t *testing.T) {
	cfg := New().Config().(*Config)
	req := &sdk.Request{Charts: map[string]sdk.ChartOverride{"argo-cd": {
		Repository: "oci://mirror.example/charts", Version: "10.1.2",
		Values: map[string]any{"server": map[string]any{"replicas": 2}},
	}}}
	r, err := release(cfg, req, testAdmin(t, "pw"))
	require.NoError(t, err)
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
	assert.Contains(t, out, "argocdServerAdminPassword: "+kube.Masked)
	assert.NotContains(t, out, "$2a$")
	assert.Equal(t, "argo-cd", charts[0].Chart)
	assert.Equal(t, "10.1.1", charts[0].Version)
}

// A map attribute sent by the host replaces the default map: an Application removed from
// lab.hcl is gone from the config, not merged back from the defaults.
func TestApplicationsFromTheHostReplaceTheDefaults(t *testing.T) {
	s := New()
	raw, _ := json.Marshal(map[string]any{"applications": map[string]string{"only": "apps/only"}})
	cfg := s.Config()
	require.NoError(t, sdk.DecodeConfig(raw, cfg))
	got, err := config(&sdk.Request{Config: cfg, ConfigJSON: raw})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"only": "apps/only"}, got.Applications)
}

func TestConfigValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"poll interval":   {func(c *Config) { c.PollInterval = "often" }, "poll_interval"},
		"two secrets":     {func(c *Config) { c.RepoPasswordEnv, c.RepoPasswordFile = "X", "/x" }, "only one"},
		"bad app name":    {func(c *Config) { c.Applications = map[string]string{"Bad_Name": "apps/x"} }, "Bad_Name"},
		"absolute path":   {func(c *Config) { c.Applications = map[string]string{"x": "/etc"} }, "relative path"},
		"path goes above": {func(c *Config) { c.Applications = map[string]string{"x": "apps/../../x"} }, "relative path"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := New().Config().(*Config)
			tc.mod(cfg)
			_, err := config(&sdk.Request{Config: cfg})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	cfg := New().Config().(*Config)
	cfg.PollInterval = "1h30m"
	p, err := cfg.poll()
	require.NoError(t, err)
	assert.Equal(t, "5400s", p)
}

func TestRepositoryPasswordComesFromAFileOrTheEnvironment(t *testing.T) {
	cfg := New().Config().(*Config)
	pw, err := cfg.repoPassword()
	require.NoError(t, err)
	assert.Empty(t, pw, "a public repository needs none")

	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("s3cret-token\n"), 0o600))
	cfg.RepoPasswordFile = file
	_, err = cfg.repoPassword()
	require.ErrorContains(t, err, "repo_username")
	cfg.RepoUsername = "bot"
	pw, err = cfg.repoPassword()
	require.NoError(t, err)
	assert.Equal(t, "s3cret-token", pw, "the trailing newline of the file is not part of it")

	cfg.RepoPasswordFile, cfg.RepoPasswordEnv = "", "LAB_TEST_ARGOCD_TOKEN"
	t.Setenv("LAB_TEST_ARGOCD_TOKEN", "")
	_, err = cfg.repoPassword()
	require.ErrorContains(t, err, "LAB_TEST_ARGOCD_TOKEN")
	t.Setenv("LAB_TEST_ARGOCD_TOKEN", "env-token")
	pw, err = cfg.repoPassword()
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
	assert.Contains(t, out, "argocdServerAdminPassword: "+kube.Masked)

	h, err := s.Health(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, sdk.Healthy, statusOf(h, "admin password"))
}
