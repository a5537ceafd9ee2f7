package monitoring

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }

// The plugin passes the conformance run against the test chart, served from a local chart
// repository like the upstream one.
func TestConformance(t *testing.T) {
	dir := writeFiles(t, map[string]string{"team.json": `{"title":"Team","uid":"team","panels":[]}`})
	sdktest.Run(t, sdktest.Options{
		Binary:  testenv.BuildPlugin(t, "monitoring"),
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
		Config:  map[string]any{"namespace": "monitoring-conformance", "dashboards_dir": dir},
		Charts:  map[string]sdk.ChartOverride{"kube-prometheus-stack": {Repository: testenv.ChartRepo(t, "kube-prometheus-stack")}},
	})
}

// The real kube-prometheus-stack 88.5.3, with its Grafana, kube-state-metrics and
// node-exporter subcharts, passes the same run: the rollout checks find its workloads.
func TestConformanceWithTheRealChart(t *testing.T) {
	repo := testenv.UpstreamRepo(t)
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	ns := "monitoring-upstream"
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), ns) }) // uninstall keeps it with the data
	sdktest.Run(t, sdktest.Options{
		Binary:  testenv.BuildPlugin(t, "monitoring"),
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
		Config:  map[string]any{"namespace": ns},
		Charts:  map[string]sdk.ChartOverride{"kube-prometheus-stack": {Repository: repo}},
	})
}

// installed is one install of the stack on the kwok cluster that the subtests look at.
type installed struct {
	s   *Stack
	cfg *Config
	req *sdk.Request
	c   *kube.Client
	dir string // dashboards_dir
}

func install(t *testing.T, ns string) *installed {
	t.Helper()
	ctx := t.Context()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	s := New()
	cfg := s.Config().(*Config)
	cfg.Namespace = ns
	cfg.AlertWebhookURL = "https://hooks.example.com/services/T000/B000/secret-token"
	cfg.DashboardsDir = writeFiles(t, map[string]string{
		"team.json":     `{"title":"Team","uid":"team","panels":[]}`,
		"Nexo API.json": `{"title":"Nexo API","uid":"nexo-api","panels":[{"type":"text"}]}`,
	})
	var events []string
	req := &sdk.Request{Stack: "monitoring", Cluster: cluster.Conn, Lab: sdk.Lab{Name: "test", Domain: "test.local"}, Config: cfg,
		Charts:  map[string]sdk.ChartOverride{"kube-prometheus-stack": {Repository: testenv.ChartRepo(t, "kube-prometheus-stack")}},
		OnEvent: func(e sdk.Event) { events = append(events, e.Step+": "+e.Message) }}
	res, err := s.Install(ctx, req)
	require.NoError(t, err, strings.Join(events, "\n"))
	assert.True(t, res.Changed)
	t.Cleanup(func() {
		req.PurgeData = true
		_, _ = s.Uninstall(context.Background(), req)
	})
	return &installed{s: s, cfg: cfg, req: req, c: c, dir: cfg.DashboardsDir}
}

func TestInstallOnKwok(t *testing.T) {
	in := install(t, "monitoring-kwok")
	ctx, c, ns := t.Context(), in.c, in.cfg.Namespace

	t.Run("lab alert rules", func(t *testing.T) {
		obj, err := c.Dynamic.Resource(prometheusRules).Namespace(ns).Get(ctx, rulesName, metav1.GetOptions{})
		require.NoError(t, err)
		names := alertNames(obj)
		for _, want := range []string{"LabPodRestartLoop", "LabPersistentVolumeAlmostFull", "LabNodeMemoryLow", "LabStackPodsNotReady"} {
			assert.Contains(t, names, want)
		}
		groups := obj.Object["spec"].(map[string]any)["groups"].([]any)
		for _, r := range groups[0].(map[string]any)["rules"].([]any) {
			rule := r.(map[string]any)
			assert.NotEmpty(t, rule["expr"], rule["alert"])
			assert.Equal(t, "warning", rule["labels"].(map[string]any)["severity"])
		}
	})

	t.Run("dashboards become ConfigMaps for the Grafana sidecar", func(t *testing.T) {
		cms, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "grafana_dashboard=1"})
		require.NoError(t, err)
		byName := map[string]corev1.ConfigMap{}
		for _, cm := range cms.Items {
			byName[cm.Name] = cm
		}
		team, ok := byName["lab-dashboard-team"]
		require.True(t, ok, "ConfigMap of team.json")
		assert.Equal(t, "Lab", team.Annotations["grafana_folder"])
		assert.JSONEq(t, `{"title":"Team","uid":"team","panels":[]}`, team.Data["team.json"])
		assert.Contains(t, byName, "lab-dashboard-overview")
		var nexo *corev1.ConfigMap
		for name, cm := range byName {
			if strings.HasPrefix(name, "lab-dashboard-nexo-api-") {
				nexo = &cm
			}
		}
		require.NotNil(t, nexo, "ConfigMap of 'Nexo API.json'")
		assert.Contains(t, nexo.Data, "Nexo_API.json")
		// The chart's four dashboards the lab promises, in their folder.
		for _, d := range chartDashboards {
			cm, ok := byName[releaseName+"-"+d]
			require.True(t, ok, d)
			assert.Equal(t, kubeFolder, cm.Annotations["grafana_folder"], d)
		}
	})

	t.Run("health: chart workloads healthy, operator-made and HTTP checks skipped", func(t *testing.T) {
		h, err := in.s.Health(ctx, in.req)
		require.NoError(t, err)
		got := map[string]sdk.Status{}
		for _, ch := range h.Checks {
			got[ch.Name] = ch.Status
			t.Logf("%s: %s: %s", ch.Name, ch.Status, ch.Message)
		}
		assert.Equal(t, map[string]sdk.Status{
			"operator rollout": sdk.Healthy, "grafana rollout": sdk.Healthy, "kube-state-metrics rollout": sdk.Healthy,
			"node-exporter": sdk.Healthy, "prometheus": sdk.Skipped, "alertmanager": sdk.Skipped,
			"alert rules": sdk.Healthy, "dashboards": sdk.Healthy,
			"prometheus targets": sdk.Skipped, "grafana api": sdk.Skipped,
		}, got)
		assert.Equal(t, sdk.Healthy, h.Status())
		assert.Contains(t, h.Endpoints, sdk.Endpoint{Name: "grafana", URL: "http://grafana.test.local"})
		nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		require.Len(t, nodes.Items, 3)
		for _, ch := range h.Checks {
			if ch.Name == "node-exporter" {
				assert.Contains(t, ch.Message, "3/3 ready", "one on each of the 3 nodes")
			}
		}
	})

	t.Run("quota holds the chart's containers", func(t *testing.T) {
		// What runs on kwok: operator, Grafana and its two sidecars, kube-state-metrics and
		// node-exporter on 3 nodes (no operator makes Prometheus and Alertmanager here).
		fixed, perNode := kube.FootprintOf([]kube.Container{operatorRes, grafanaRes, sidecarRes, ksmRes, nodeExporterRes})
		nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		n := int64(len(nodes.Items))
		cpu := fixed.CPURequestMillis + n*perNode.CPURequestMillis
		mem := fixed.MemoryRequestBytes + n*perNode.MemoryRequestBytes
		// The quota controller counts the pods in the background.
		var q *corev1.ResourceQuota
		require.Eventually(t, func() bool {
			var err error
			q, err = c.Kube.CoreV1().ResourceQuotas(ns).Get(ctx, "lab-quota", metav1.GetOptions{})
			require.NoError(t, err)
			used := q.Status.Used[corev1.ResourceRequestsCPU]
			usedMem := q.Status.Used[corev1.ResourceRequestsMemory]
			return used.MilliValue() == cpu && usedMem.Value() == mem
		}, time.Minute, 500*time.Millisecond, "quota status: %v", func() any { return q.Status.Used })
		for name, hard := range q.Status.Hard {
			u := q.Status.Used[name]
			assert.LessOrEqual(t, u.Cmp(hard), 0, "%s: %s of %s", name, u.String(), hard.String())
		}
	})

	t.Run("no secret in Helm values", func(t *testing.T) {
		s, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, adminSecret, metav1.GetOptions{})
		require.NoError(t, err)
		password := string(s.Data["password"])
		require.Len(t, password, 24)
		assert.Equal(t, "grafana", s.Labels[kube.CredentialsLabel], "listed by lab credentials")
		assert.Equal(t, "admin", string(s.Data["username"]))
		vals, err := helm.New(c).ReleaseValues(releaseName, ns)
		require.NoError(t, err)
		out := helm.YAML(vals)
		assert.NotContains(t, out, password)
		assert.NotContains(t, out, "secret-token")
		rendered, err := in.s.Render(ctx, in.req)
		require.NoError(t, err)
		assert.NotContains(t, rendered[0].ValuesYAML, password)

		hook, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, webhookSecret, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, in.cfg.AlertWebhookURL, string(hook.Data["url"]))
		// What the chart renders for Alertmanager: the webhook receiver reading the file.
		am, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, "alertmanager-"+amName, metav1.GetOptions{})
		require.NoError(t, err)
		var conf map[string]any
		require.NoError(t, yaml.Unmarshal(am.Data["alertmanager.yaml"], &conf))
		assert.Equal(t, "lab-webhook", conf["route"].(map[string]any)["receiver"])
		assert.Contains(t, string(am.Data["alertmanager.yaml"]), webhookFile)
		assert.NotContains(t, string(am.Data["alertmanager.yaml"]), "secret-token")
	})

	t.Run("install again changes nothing", func(t *testing.T) {
		res, err := in.s.Install(ctx, in.req)
		require.NoError(t, err)
		assert.False(t, res.Changed)
	})

	t.Run("a removed dashboard file removes its ConfigMap", func(t *testing.T) {
		require.NoError(t, os.Remove(filepath.Join(in.dir, "team.json")))
		res, err := in.s.Install(ctx, in.req)
		require.NoError(t, err)
		assert.True(t, res.Changed)
		_, err = c.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "lab-dashboard-team", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%v", err)
	})

	t.Run("a bad dashboard file fails the install before anything changes", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(in.dir, "broken.json"), []byte(`{"title": "x", "panels": [}`), 0o644))
		defer os.Remove(filepath.Join(in.dir, "broken.json"))
		before, err := helm.New(c).Deployed(releaseName, ns)
		require.NoError(t, err)
		_, err = in.s.Install(ctx, in.req)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "broken.json")
		after, err := helm.New(c).Deployed(releaseName, ns)
		require.NoError(t, err)
		assert.Equal(t, before.Version, after.Version)
	})

	t.Run("webhook removed: null receiver and no Secret; the upgrade re-applies the CRDs", func(t *testing.T) {
		// Someone changed a CRD of the chart; Helm alone would never put it back.
		crd, err := c.Dynamic.Resource(crds).Get(ctx, "prometheusrules.monitoring.coreos.com", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, unstructured.SetNestedStringSlice(crd.Object, []string{"changed-by-hand"}, "spec", "names", "categories"))
		_, err = c.Dynamic.Resource(crds).Update(ctx, crd, metav1.UpdateOptions{})
		require.NoError(t, err)

		cfg := *in.cfg
		cfg.AlertWebhookURL = ""
		req := *in.req
		req.Config = &cfg
		_, err = in.s.Install(ctx, &req)
		require.NoError(t, err)
		_, err = c.Kube.CoreV1().Secrets(ns).Get(ctx, webhookSecret, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err))
		am, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, "alertmanager-"+amName, metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotContains(t, string(am.Data["alertmanager.yaml"]), "lab-webhook")

		crd, err = c.Dynamic.Resource(crds).Get(ctx, "prometheusrules.monitoring.coreos.com", metav1.GetOptions{})
		require.NoError(t, err)
		cats, _, _ := unstructured.NestedStringSlice(crd.Object, "spec", "names", "categories")
		assert.Equal(t, []string{"prometheus-operator"}, cats, "the chart's CRD is back")
	})

	t.Run("backup and restore of the Kubernetes side", func(t *testing.T) {
		dir := t.TempDir()
		req := *in.req
		req.Dir = dir
		res, err := in.s.Backup(ctx, &req)
		require.NoError(t, err)
		assert.Contains(t, res.Files, indexFile)
		assert.Contains(t, res.Files, configMapsFile)
		var idx index
		require.NoError(t, readJSON(dir, indexFile, &idx))
		assert.Equal(t, backupFormat, idx.Format)
		assert.Contains(t, idx.Grafana.Skipped, "simulated")
		saved, err := os.ReadFile(filepath.Join(dir, configMapsFile))
		require.NoError(t, err)
		objs, err := kube.Decode(string(saved))
		require.NoError(t, err)
		var names []string
		for _, o := range objs {
			names = append(names, o.GetName())
		}
		assert.Contains(t, names, "lab-dashboard-overview")
		for _, f := range res.Files {
			st, err := os.Stat(filepath.Join(dir, f))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
		}
		// A dashboard ConfigMap lost in the cluster comes back from the backup.
		var lost string
		for _, n := range names {
			if strings.HasPrefix(n, "lab-dashboard-nexo-api-") {
				lost = n
			}
		}
		require.NotEmpty(t, lost)
		before, err := c.Kube.CoreV1().ConfigMaps(ns).Get(ctx, lost, metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, c.Kube.CoreV1().ConfigMaps(ns).Delete(ctx, lost, metav1.DeleteOptions{}))
		_, err = in.s.Restore(ctx, &req)
		require.NoError(t, err)
		after, err := c.Kube.CoreV1().ConfigMaps(ns).Get(ctx, lost, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, before.Data, after.Data)
		assert.Equal(t, before.Labels, after.Labels)
		assert.Equal(t, before.Annotations, after.Annotations)
	})

	t.Run("uninstall keeps CRDs and, without purge, the namespace and admin Secret", func(t *testing.T) {
		_, err := in.s.Uninstall(ctx, in.req)
		require.NoError(t, err)
		_, err = c.Dynamic.Resource(prometheusRules).Namespace(ns).Get(ctx, rulesName, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err))
		cms, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.StackLabel})
		require.NoError(t, err)
		assert.Empty(t, cms.Items)
		_, err = c.Kube.CoreV1().Secrets(ns).Get(ctx, adminSecret, metav1.GetOptions{})
		assert.NoError(t, err, "the admin Secret stays with Grafana's data")
		_, err = c.Dynamic.Resource(crds).Get(ctx, "prometheusrules.monitoring.coreos.com", metav1.GetOptions{})
		assert.NoError(t, err, "CRDs stay")
		h, err := in.s.Health(ctx, in.req)
		require.NoError(t, err)
		assert.NotEqual(t, sdk.Healthy, h.Status())
	})

	t.Run("purge deletes the namespace and the monitoring.coreos.com CRDs", func(t *testing.T) {
		monitoringCRDs := func() int {
			list, err := c.Dynamic.Resource(crds).List(ctx, metav1.ListOptions{})
			require.NoError(t, err)
			n := 0
			for _, crd := range list.Items {
				if strings.HasSuffix(crd.GetName(), ".monitoring.coreos.com") {
					n++
				}
			}
			return n
		}
		// The test chart's 5, and the real chart's others when its test ran first.
		n := monitoringCRDs()
		require.GreaterOrEqual(t, n, 5)
		req := *in.req
		req.PurgeData = true
		var events []string
		req.OnEvent = func(e sdk.Event) { events = append(events, e.Step+": "+e.Message) }
		_, err := in.s.Uninstall(ctx, &req)
		require.NoError(t, err)
		_, err = c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "purge deletes the namespace")
		assert.Contains(t, events, fmt.Sprintf("crds: deleted %d CRDs of monitoring.coreos.com", n))
		require.Eventually(t, func() bool { return monitoringCRDs() == 0 }, time.Minute, 500*time.Millisecond)
	})
}

// The Prometheus check on a cluster where the operator runs reads the resource's status
// conditions and the StatefulSet made from it. Here the test plays the operator: it writes
// the status through the status subresource and makes the StatefulSet (kwok runs its pod),
// so the check reads real API objects where the operator would put them.
func TestOperatedCheckReadsTheOperatorsWork(t *testing.T) {
	ctx := t.Context()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	crdFile, err := os.ReadFile(filepath.Join("..", "..", "testdata", "charts", "kube-prometheus-stack", "charts", "crds", "crds", "crd-prometheuses.yaml"))
	require.NoError(t, err)
	_, err = c.ApplyYAML(ctx, "", string(crdFile))
	require.NoError(t, err)
	ns := "operated-check"
	require.NoError(t, c.EnsureNamespace(ctx, ns, nil))
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), ns) })
	k := operated[0]
	res := c.Dynamic.Resource(k.gvr).Namespace(ns)
	var obj *unstructured.Unstructured
	require.Eventually(t, func() bool { // until the CRD is served
		obj, err = res.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
			"metadata": map[string]any{"name": k.name}, "spec": map[string]any{"replicas": int64(1)},
		}}, metav1.CreateOptions{})
		return err == nil
	}, 30*time.Second, 200*time.Millisecond, "create Prometheus: %v", err)

	check := func(simulated bool) sdk.Check {
		h := &sdk.Health{}
		checkOperated(ctx, c, h, ns, k, simulated)
		require.Len(t, h.Checks, 1)
		return h.Checks[0]
	}
	ch := check(false)
	assert.Equal(t, sdk.Unhealthy, ch.Status)
	assert.Contains(t, ch.Message, "no status.conditions")

	setStatus := func(available string) {
		obj, err = res.Get(ctx, k.name, metav1.GetOptions{})
		require.NoError(t, err)
		gen := obj.GetGeneration()
		obj.Object["status"] = map[string]any{"conditions": []any{
			map[string]any{"type": "Available", "status": available, "reason": "SomePodsNotReady", "message": "1/2 ready", "observedGeneration": gen},
			map[string]any{"type": "Reconciled", "status": "True", "observedGeneration": gen},
		}}
		_, err = res.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	setStatus("True")
	ch = check(false)
	assert.Equal(t, sdk.Unhealthy, ch.Status)
	assert.Contains(t, ch.Message, "StatefulSet operated-check/prometheus-"+promName+" is missing")

	one := int32(1)
	labels := map[string]string{"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": k.name}
	_, err = c.Kube.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: k.prefix + k.name, Labels: labels},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, ServiceName: "prometheus-operated",
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "prometheus", Image: "quay.io/prometheus/prometheus"}}}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return check(false).Status == sdk.Healthy }, time.Minute, 500*time.Millisecond,
		"last: %+v", check(false))
	assert.Equal(t, "Available, Reconciled; statefulset operated-check/prometheus-kube-prometheus-stack-prometheus 1/1 ready", check(false).Message)

	setStatus("Degraded")
	ch = check(false)
	assert.Equal(t, sdk.Degraded, ch.Status)
	assert.Contains(t, ch.Message, "Available degraded: SomePodsNotReady: 1/2 ready")

	// A spec change the operator has not seen yet.
	setStatus("True")
	require.Equal(t, sdk.Healthy, check(false).Status)
	obj, err = res.Get(ctx, k.name, metav1.GetOptions{})
	require.NoError(t, err)
	obj.Object["spec"] = map[string]any{"replicas": int64(2)}
	_, err = res.Update(ctx, obj, metav1.UpdateOptions{})
	require.NoError(t, err)
	ch = check(false)
	assert.Equal(t, sdk.Degraded, ch.Status)
	assert.Contains(t, ch.Message, "Available is of generation 1, the spec is at 2")

	ch = check(true)
	assert.Equal(t, sdk.Skipped, ch.Status, "never healthy where no operator runs")
}
