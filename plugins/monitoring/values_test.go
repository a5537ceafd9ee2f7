package monitoring

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helm/chartkeys"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// configs are the shapes of config the values are checked in.
func configs() map[string]*Config {
	def := New().Config().(*Config)
	full := New().Config().(*Config)
	full.AlertWebhookURL = "https://hooks.example.com/services/T000/B000/secret-token"
	full.BackupTSDB, full.ControlPlaneMetrics = true, true
	return map[string]*Config{"defaults": def, "everything on": full}
}

func requestFor(cfg *Config, provider string) *sdk.Request {
	return &sdk.Request{Stack: "monitoring", Config: cfg, Lab: sdk.Lab{Name: "nexo", Domain: "nexo.local"},
		Cluster: sdk.Cluster{Provider: provider, Simulated: provider == "kwok"}}
}

// releaseFor is the release Install would apply, the user's chart block merged in.
func releaseFor(t *testing.T, req *sdk.Request) helm.Release {
	t.Helper()
	rels, err := New().Releases(t.Context(), req)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	return rels[0]
}

func valuesFor(t *testing.T, cfg *Config, provider string) map[string]any {
	return releaseFor(t, requestFor(cfg, provider)).Values
}

// subcharts of kube-prometheus-stack 88.5.3 and their key lists. Keys under a subchart's
// name are checked against that chart's own keys; kube-prometheus-stack documents a few
// more under the same names (grafana.defaultDashboardsEnabled, ...), which count too.
var subcharts = map[string]string{"grafana": "12.11.1", "kube-state-metrics": "8.4.0", "prometheus-node-exporter": "4.56.1"}

// documented names keys a chart documents only in a comment of its values.yaml, or maps
// it passes through as they are.
var documented = map[string][]string{
	// grafana values.yaml: "# storageClassName: default" under persistence.
	"grafana": {"persistence.storageClassName"},
}

var freeForm = map[string][]string{
	// grafana.ini is Grafana's configuration file: any section and key of Grafana.
	"grafana": {"grafana.ini"},
}

func TestValuesUseOnlyChartKeys(t *testing.T) {
	parent, err := chartkeys.Load(chart.Name, chart.Version)
	require.NoError(t, err)
	for name, cfg := range configs() {
		for _, provider := range []string{"k3d", "kwok", "existing"} {
			t.Run(name+"/"+provider, func(t *testing.T) {
				vals := valuesFor(t, cfg, provider)
				rest := map[string]any{}
				for k, v := range vals {
					rest[k] = v
				}
				for sub, version := range subcharts {
					delete(rest, sub)
					keys, err := chartkeys.Load(sub, version)
					require.NoError(t, err)
					subValues, _ := vals[sub].(map[string]any)
					require.NotEmpty(t, subValues, "values for %s", sub)
					var unknown []string
					for _, path := range keys.Unknown(subValues, freeForm[sub]...) {
						if contains(documented[sub], path) || len(parent.Unknown(nested(sub+"."+path))) == 0 {
							continue
						}
						unknown = append(unknown, path)
					}
					assert.Empty(t, unknown, "keys not in %s %s", sub, version)
				}
				assert.Empty(t, parent.Unknown(rest), "keys not in %s %s", chart.Name, chart.Version)
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nested turns a dotted path into nested maps, to ask a key list about one path.
func nested(path string) map[string]any {
	parts := strings.Split(path, ".")
	var v any = "x"
	for i := len(parts) - 1; i >= 0; i-- {
		v = map[string]any{parts[i]: v}
	}
	return v.(map[string]any)
}

// No password or webhook URL is ever part of the values, rendered or not: Grafana's
// admin comes from a Secret lab generates, the webhook URL from a Secret Alertmanager
// mounts.
func TestNoSecretInValues(t *testing.T) {
	cfg := configs()["everything on"]
	req := requestFor(cfg, "k3d")
	out := helm.YAML(releaseFor(t, req).Values)
	assert.NotContains(t, out, "secret-token")
	assert.NotContains(t, out, "adminPassword")
	g := releaseFor(t, req).Values["grafana"].(map[string]any)
	assert.Equal(t, map[string]any{"existingSecret": adminSecret, "userKey": "username", "passwordKey": "password"}, g["admin"])

	rendered, err := New().Render(t.Context(), req)
	require.NoError(t, err)
	require.Len(t, rendered, 1)
	assert.NotContains(t, rendered[0].ValuesYAML, "secret-token")
	assert.Contains(t, rendered[0].ValuesYAML, webhookFile, "the receiver reads the URL from the mounted Secret")
}

func TestAlertmanagerReceiver(t *testing.T) {
	cfg := New().Config().(*Config)
	am := alertmanagerConfig(cfg)
	assert.Equal(t, "null", am["route"].(map[string]any)["receiver"], "no webhook: alerts go nowhere")
	assert.Len(t, am["receivers"], 1)

	cfg.AlertWebhookURL = "http://hooks.example.com/alert"
	am = alertmanagerConfig(cfg)
	assert.Equal(t, "lab-webhook", am["route"].(map[string]any)["receiver"])
	hook := am["receivers"].([]any)[1].(map[string]any)["webhook_configs"].([]any)[0].(map[string]any)
	assert.Equal(t, webhookFile, hook["url_file"])
	spec := valuesFor(t, cfg, "k3d")["alertmanager"].(map[string]any)["alertmanagerSpec"].(map[string]any)
	assert.Equal(t, []any{webhookSecret}, spec["secrets"], "the Secret is mounted where url_file points")
	sum := spec["podMetadata"].(map[string]any)["annotations"].(map[string]any)["lab.nexolab.dev/webhook-url-sha256"]
	assert.Regexp(t, `^[0-9a-f]{16}$`, sum, "a new URL rolls Alertmanager")
	assert.NotContains(t, helm.YAML(spec), "hooks.example.com")
}

func TestPrometheusSpec(t *testing.T) {
	cfg := New().Config().(*Config)
	cfg.Retention, cfg.StorageSize = "15d", "20Gi"
	spec := valuesFor(t, cfg, "k3d")["prometheus"].(map[string]any)["prometheusSpec"].(map[string]any)
	assert.Equal(t, "15d", spec["retention"])
	assert.Equal(t, "17408MiB", spec["retentionSize"], "85% of 20Gi")
	vct := spec["storageSpec"].(map[string]any)["volumeClaimTemplate"].(map[string]any)["spec"].(map[string]any)
	assert.Equal(t, "local-path", vct["storageClassName"])
	assert.Equal(t, "20Gi", vct["resources"].(map[string]any)["requests"].(map[string]any)["storage"])
	for _, k := range []string{"serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"} {
		assert.Equal(t, false, spec[k+"SelectorNilUsesHelmValues"], "%s objects of every namespace and label", k)
	}
	assert.Equal(t, false, spec["enableAdminAPI"], "the admin API only for TSDB backups")
}

func TestK3sControlPlaneNotScrapedByDefault(t *testing.T) {
	cfg := New().Config().(*Config)
	v := valuesFor(t, cfg, "k3d")
	for _, c := range []string{"kubeControllerManager", "kubeScheduler", "kubeProxy", "kubeEtcd"} {
		assert.Equal(t, map[string]any{"enabled": false}, v[c], c)
	}
	cfg.ControlPlaneMetrics = true
	v = valuesFor(t, cfg, "existing")
	assert.Equal(t, map[string]any{"enabled": true}, v["kubeEtcd"])
}

func TestNodeExporterMountOnK3d(t *testing.T) {
	cfg := New().Config().(*Config)
	ne := valuesFor(t, cfg, "k3d")["prometheus-node-exporter"].(map[string]any)
	assert.Equal(t, "None", ne["hostRootFsMount"].(map[string]any)["mountPropagation"])
	ne = valuesFor(t, cfg, "existing")["prometheus-node-exporter"].(map[string]any)
	assert.NotContains(t, ne, "hostRootFsMount", "other clusters keep the chart's HostToContainer")
}

// Every container the stack runs has requests and limits, and all of them together, with
// a hook Job and a rolling update of the largest Deployment, fit in the namespace quota.
func TestResourcesFitTheQuota(t *testing.T) {
	cfg := New().Config().(*Config)
	v := valuesFor(t, cfg, "k3d")
	for _, path := range []string{
		"prometheusOperator.resources", "prometheusOperator.prometheusConfigReloader.resources",
		"prometheusOperator.admissionWebhooks.patch.resources",
		"prometheus.prometheusSpec.resources", "alertmanager.alertmanagerSpec.resources",
		"grafana.resources", "grafana.sidecar.resources", "grafana.initChownData.resources",
		"kube-state-metrics.resources", "prometheus-node-exporter.resources",
	} {
		r := lookup(t, v, path)
		for _, kind := range []string{"requests", "limits"} {
			m, ok := r[kind].(map[string]any)
			require.True(t, ok, "%s.%s", path, kind)
			assert.NotEmpty(t, m["cpu"], "%s.%s.cpu", path, kind)
			assert.NotEmpty(t, m["memory"], "%s.%s.memory", path, kind)
		}
	}
	info := New().Info()
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 10, MemoryRequestBytes: 24 << 20, CPULimitMillis: 100, MemoryLimitBytes: 64 << 20},
		info.FootprintPerNode, "node-exporter runs on every node")
	// On the lab's 3 nodes (1 server, 2 agents), as the host multiplies them.
	f := add(info.Footprint, info.FootprintPerNode, 3)
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 460, MemoryRequestBytes: 1130 << 20, CPULimitMillis: 1850, MemoryLimitBytes: 3044 << 20}, f)
	grafanaSurge := sidecarRes
	grafanaSurge.Replicas = 3 // a second Grafana pod during a rolling update: grafana + 2 sidecars, roughly
	hook := hookRes
	hook.Replicas = 1 // one hook Job at a time
	extra, _ := kube.FootprintOf([]kube.Container{hook, grafanaSurge, operatorRes, ksmRes})
	f = add(f, extra, 1)
	q := func(s string) resource.Quantity { return resource.MustParse(s) }
	hardCPU, hardMem, limCPU, limMem := q(quota.RequestsCPU), q(quota.RequestsMemory), q(quota.LimitsCPU), q(quota.LimitsMemory)
	assert.LessOrEqual(t, f.CPURequestMillis, hardCPU.MilliValue())
	assert.LessOrEqual(t, f.MemoryRequestBytes, hardMem.Value())
	assert.LessOrEqual(t, f.CPULimitMillis, limCPU.MilliValue())
	assert.LessOrEqual(t, f.MemoryLimitBytes, limMem.Value())
	assert.Equal(t, sdk.Footprint{CPURequestMillis: 460, MemoryRequestBytes: 1130 << 20, CPULimitMillis: 1850, MemoryLimitBytes: 3044 << 20},
		add(info.Footprint, info.FootprintPerNode, 3), "Info reports the footprint")
}

// add is a plus n times b.
func add(a, b sdk.Footprint, n int64) sdk.Footprint {
	return sdk.Footprint{CPURequestMillis: a.CPURequestMillis + n*b.CPURequestMillis, MemoryRequestBytes: a.MemoryRequestBytes + n*b.MemoryRequestBytes,
		CPULimitMillis: a.CPULimitMillis + n*b.CPULimitMillis, MemoryLimitBytes: a.MemoryLimitBytes + n*b.MemoryLimitBytes}
}

func lookup(t *testing.T, v map[string]any, path string) map[string]any {
	t.Helper()
	var cur any = v
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "%s: %s is not a map", path, p)
		cur = m[p]
	}
	m, ok := cur.(map[string]any)
	require.True(t, ok, "%s", path)
	return m
}

func TestIngressHostsWithoutClass(t *testing.T) {
	cfg := New().Config().(*Config)
	v := valuesFor(t, cfg, "k3d")
	for comp, host := range map[string]string{"grafana": "grafana.nexo.local", "prometheus": "prometheus.nexo.local", "alertmanager": "alertmanager.nexo.local"} {
		ing := lookup(t, v, comp+".ingress")
		assert.Equal(t, true, ing["enabled"], comp)
		assert.Equal(t, []any{host}, ing["hosts"], comp)
		assert.NotContains(t, ing, "ingressClassName", "%s: the ingress stack's class is the default", comp)
	}
}

func TestChartOverrideMergesOverGeneratedValues(t *testing.T) {
	cfg := New().Config().(*Config)
	req := requestFor(cfg, "k3d")
	req.Charts = map[string]sdk.ChartOverride{"kube-prometheus-stack": {
		Repository: "oci://mirror.example/charts", Version: "88.5.4",
		Values: map[string]any{"grafana": map[string]any{"defaultDashboardsTimezone": "browser"}},
	}}
	r := releaseFor(t, req)
	assert.Equal(t, "oci://mirror.example/charts", r.Chart.Repository)
	assert.Equal(t, "88.5.4", r.Chart.Version)
	g := r.Values["grafana"].(map[string]any)
	assert.Equal(t, "browser", g["defaultDashboardsTimezone"])
	assert.Equal(t, adminSecret, g["admin"].(map[string]any)["existingSecret"], "generated values stay")
	assert.True(t, r.UpgradeCRDs, "Helm does not upgrade CRDs by itself")
}

// Each rule's diagnostic names its attribute, which lab validate turns into the line and
// column of lab.hcl; the kit refuses the config before any change.
func TestValidate(t *testing.T) {
	validate := func(cfg *Config) sdk.Diagnostics { return New().Validate(t.Context(), requestFor(cfg, "k3d")) }
	good := New().Config().(*Config)
	require.NoError(t, validate(good).Err())
	for name, c := range map[string]struct {
		mutate    func(*Config)
		attribute string
	}{
		"retention":   {func(c *Config) { c.Retention = "10 days" }, "retention"},
		"storage":     {func(c *Config) { c.StorageSize = "lots" }, "storage_size"},
		"small":       {func(c *Config) { c.StorageSize = "100Mi" }, "storage_size"},
		"webhook URL": {func(c *Config) { c.AlertWebhookURL = "hooks.example.com" }, "alert_webhook_url"},
	} {
		cfg := *good
		c.mutate(&cfg)
		d := validate(&cfg)
		assert.Error(t, d.Err(), name)
		require.Len(t, d, 1, name)
		assert.Equal(t, c.attribute, d[0].Attribute, name)
		_, err := New().Install(t.Context(), requestFor(&cfg, "k3d"))
		assert.ErrorContains(t, err, c.attribute+": ", "%s: Install refuses it before reaching a cluster", name)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

func TestDashboardsDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"team.json":     `{"title": "Team", "uid": "team", "panels": []}`,
		"Nexo API.json": `{"dashboard": {"title": "Nexo API", "uid": "nexo-api", "panels": []}, "meta": {"folderUid": "x"}}`,
		"README.md":     "not a dashboard",
	})
	boards, err := loadDashboards(dir)
	require.NoError(t, err)
	require.Len(t, boards, 2)
	byTitle := map[string]dashboard{}
	for _, b := range boards {
		byTitle[b.title] = b
	}
	assert.Equal(t, "lab-dashboard-team", byTitle["Team"].cm)
	api := byTitle["Nexo API"]
	assert.Regexp(t, `^lab-dashboard-nexo-api-[0-9a-f]{8}$`, api.cm)
	assert.Equal(t, "Nexo_API.json", api.key)
	assert.JSONEq(t, `{"title": "Nexo API", "uid": "nexo-api", "panels": []}`, string(api.json), "the API's form is unwrapped")

	none, err := loadDashboards("")
	require.NoError(t, err)
	assert.Empty(t, none)
}

// A bad file fails the install before anything changes, and the error names the file.
func TestDashboardsDirErrorsNameTheFile(t *testing.T) {
	cases := map[string]struct{ files map[string]string }{
		"syntax":       {map[string]string{"ok.json": `{"title":"A","panels":[]}`, "broken.json": "{\n  \"title\": \"B\",\n  \"panels\": [,]\n}"}},
		"not object":   {map[string]string{"broken.json": `[1, 2]`}},
		"no title":     {map[string]string{"broken.json": `{"panels": []}`}},
		"no panels":    {map[string]string{"broken.json": `{"title": "x"}`}},
		"same uid":     {map[string]string{"a.json": `{"title":"A","uid":"u","panels":[]}`, "broken.json": `{"title":"B","uid":"u","panels":[]}`}},
		"empty file":   {map[string]string{"broken.json": ``}},
		"not UTF JSON": {map[string]string{"broken.json": "title: yaml"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, c.files)
			_, err := loadDashboards(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "broken.json")
		})
	}
	_, err := loadDashboards(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dashboards_dir")

	dir := writeFiles(t, map[string]string{"broken.json": "{\n  \"title\": \"B\",\n  \"panels\": [,]\n}"})
	_, err = loadDashboards(dir)
	assert.Contains(t, err.Error(), "line 3, column 14")
}

func TestLabRules(t *testing.T) {
	obj := rulesObject("monitoring")
	assert.Equal(t, []string{"LabPodRestartLoop", "LabPersistentVolumeAlmostFull", "LabDataFolderAlmostFull", "LabNodeMemoryLow", "LabStackPodsNotReady"}, alertNames(obj))
	for _, r := range labRules {
		assert.Equal(t, strings.Count(r.Expr, "("), strings.Count(r.Expr, ")"), "%s: parentheses", r.Alert)
		assert.Equal(t, strings.Count(r.Expr, "{"), strings.Count(r.Expr, "}"), "%s: braces", r.Alert)
		assert.Equal(t, 0, strings.Count(r.Expr, `"`)%2, "%s: quotes", r.Alert)
		assert.Regexp(t, `^[0-9]+m$`, r.For)
	}
}

func TestJudgeTargets(t *testing.T) {
	st, msg := judgeTargets([]byte(`{"status":"success","data":{"activeTargets":[
		{"labels":{"job":"kubelet"},"scrapeUrl":"https://10.0.0.1:10250/metrics","health":"up"},
		{"labels":{"job":"node-exporter"},"scrapeUrl":"http://10.0.0.2:9100/metrics","health":"down","lastError":"connection refused"},
		{"labels":{"job":"grafana"},"scrapeUrl":"http://10.0.0.3:3000/metrics","health":"unknown"}]}}`))
	assert.Equal(t, sdk.Degraded, st)
	assert.Contains(t, msg, "node-exporter http://10.0.0.2:9100/metrics (connection refused)")
	st, msg = judgeTargets([]byte(`{"status":"success","data":{"activeTargets":[{"labels":{"job":"a"},"health":"up"},{"labels":{"job":"b"},"health":"unknown"}]}}`))
	assert.Equal(t, sdk.Healthy, st)
	assert.Equal(t, "1 targets up, 1 not scraped yet", msg)
	st, _ = judgeTargets([]byte(`<html>`))
	assert.Equal(t, sdk.Unhealthy, st)
}

// The test chart renders with the values the plugin gives, on both kinds of cluster.
func TestTestChartRendersPluginValues(t *testing.T) {
	ch, err := loader.Load(filepath.Join("..", "..", "testdata", "charts", "kube-prometheus-stack"))
	require.NoError(t, err)
	for _, provider := range []string{"k3d", "kwok"} {
		cfg := configs()["everything on"]
		r := releaseFor(t, requestFor(cfg, provider))
		in := action.NewInstall(&action.Configuration{})
		in.ClientOnly, in.DryRun, in.ReleaseName, in.Namespace = true, true, r.Name, r.Namespace
		in.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
		rel, err := in.Run(ch, r.Values)
		require.NoError(t, err, provider)
		for _, want := range []string{
			"name: " + operatorName, "name: " + grafanaName, "name: " + ksmName, "name: " + nodeExporter,
			"kind: Prometheus\n", "name: " + promName, "kind: Alertmanager\n", "name: " + amName,
			"existingSecret", // never: the chart reads the Secret
		} {
			if want == "existingSecret" {
				assert.NotContains(t, rel.Manifest, "admin-password:", "no generated password Secret")
				continue
			}
			assert.Contains(t, rel.Manifest, want, provider)
		}
		var hooks []string
		for _, h := range rel.Hooks {
			hooks = append(hooks, h.Name)
		}
		if provider == "kwok" {
			assert.Empty(t, hooks, "no admission webhook where no operator runs")
		} else {
			assert.ElementsMatch(t, []string{"kube-prometheus-stack-admission-create", "kube-prometheus-stack-admission-patch"}, hooks)
		}
	}
}
