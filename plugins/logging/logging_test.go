package logging

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }

// The plugin passes the conformance run with the real eck-operator and eck-stack charts.
// Its uninstall keeps the CRDs (only --purge-data removes them), which Helm lets only a
// release of the same namespace adopt: both tests use the stack's default namespace.
func TestConformance(t *testing.T) {
	repo := testenv.UpstreamRepo(t)
	sdktest.Run(t, sdktest.Options{
		Binary:  testenv.BuildPlugin(t, "logging"),
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
		Config:  map[string]any{"namespace": "logging"},
		Charts:  map[string]sdk.ChartOverride{"eck-operator": {Repository: repo}, "eck-stack": {Repository: repo}},
	})
}

// stackUnderTest is the real plugin process and a request for it.
type stackUnderTest struct {
	t      *testing.T
	client *sdk.Client
	req    *sdk.Request
	kube   *kube.Client
	ns     string
}

func launch(t *testing.T, ns string) *stackUnderTest { return launchOn(t, cluster.Conn, ns) }

// launchOn starts the plugin for a stack in namespace ns of a cluster.
func launchOn(t *testing.T, conn sdk.Cluster, ns string) *stackUnderTest {
	bin := testenv.BuildPlugin(t, "logging")
	host := pluginhost.New(pluginhost.Options{Dirs: []string{filepath.Dir(bin)},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn})})
	t.Cleanup(host.Close)
	p, err := host.Launch(context.Background(), "logging")
	require.NoError(t, err)
	cfg, err := json.Marshal(map[string]any{"namespace": ns, "elasticsearch_nodes": 3, "storage_size": "5Gi",
		"retention": "7d", "app_namespaces": []string{"nexo-*"}, "snapshot_path": "/mnt/data/logging-snapshots"})
	require.NoError(t, err)
	repo := testenv.UpstreamRepo(t)
	c, err := kube.Connect(conn, nil)
	require.NoError(t, err)
	return &stackUnderTest{t: t, client: p.Client, kube: c, ns: ns, req: &sdk.Request{
		Stack: "logging", Cluster: conn, Lab: sdk.Lab{Name: "test", Domain: "test.local"}, ConfigJSON: cfg,
		Charts:  map[string]sdk.ChartOverride{"eck-operator": {Repository: repo}, "eck-stack": {Repository: repo}},
		OnEvent: func(e sdk.Event) { t.Logf("%s: %s", e.Step, e.Message) },
	}}
}

func (st *stackUnderTest) health() *sdk.Health {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := st.client.Health(ctx, st.req)
	require.NoError(st.t, err)
	return h
}

func (st *stackUnderTest) install() *sdk.Result {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := st.client.Install(ctx, st.req)
	require.NoError(st.t, err)
	return res
}

// get reads one of ECK's resources of the stack.
func (st *stackUnderTest) get(r eckResource) (*unstructured.Unstructured, error) {
	return st.kube.Dynamic.Resource(r.gvr).Namespace(st.ns).Get(context.Background(), r.name, metav1.GetOptions{})
}

// playOperator writes a resource's status as ECK would.
func (st *stackUnderTest) playOperator(r eckResource, status map[string]any) {
	o, err := st.get(r)
	require.NoError(st.t, err)
	o.Object["status"] = status
	_, err = st.kube.Dynamic.Resource(r.gvr).Namespace(st.ns).UpdateStatus(context.Background(), o, metav1.UpdateOptions{})
	require.NoError(st.t, err)
}

// On kwok, with the real charts: apply, health (healthy, with what needs the operator
// skipped), a no-op re-apply, backup, health as the operator reports it (played by the
// test), the login once ECK made the password, and uninstall: resources first, data
// kept, then purged.
func TestLifecycleOnKwok(t *testing.T) {
	st := launch(t, "logging")
	ctx := context.Background()

	first := st.install()
	require.Len(t, first.Releases, 2)
	assert.True(t, first.Changed)
	for _, r := range eckResources {
		_, err := st.get(r)
		require.NoError(t, err, "%s made by the eck-stack chart", r.kind)
	}

	h := st.health()
	assert.Equal(t, sdk.Healthy, h.Status(), "%v", h.Checks)
	want := map[string]sdk.Status{"operator rollout": sdk.Healthy, "elasticsearch": sdk.Skipped, "kibana": sdk.Skipped,
		"filebeat": sdk.Skipped, "lifecycle policy": sdk.Skipped, "data views": sdk.Skipped,
		"app-* documents": sdk.Skipped, "k8s-* documents": sdk.Skipped}
	assert.Equal(t, want, statuses(h))
	assert.Contains(t, message(h, "elasticsearch"), "Elasticsearch logging/elasticsearch exists")
	assert.Contains(t, message(h, "operator rollout"), "statefulset logging/elastic-operator 1/1 ready")
	assert.Equal(t, []sdk.Endpoint{{Name: "kibana", URL: "http://kibana.test.local"}}, h.Endpoints)

	again := st.install()
	assert.False(t, again.Changed, "a re-apply with nothing to do changes nothing")
	for i, r := range again.Releases {
		assert.Equal(t, first.Releases[i].Revision, r.Revision, "no new Helm revision of %s", r.Name)
	}

	q, err := st.kube.Kube.CoreV1().ResourceQuotas(st.ns).Get(ctx, "lab-quota", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "4Gi", ptr(q.Spec.Hard["requests.memory"]).String())
	used := q.Status.Used["requests.cpu"]
	assert.Equal(t, "50m", used.String(), "only the operator runs on kwok, at its 50m")

	t.Run("backup", func(t *testing.T) {
		st.req.Dir = t.TempDir()
		res, err := st.client.Backup(ctx, st.req)
		require.NoError(t, err)
		assert.Empty(t, res.Files)
		assert.Contains(t, res.Summary, "no Elasticsearch snapshot or Kibana export")
		st.req.Dir = ""
	})

	t.Run("health as the operator reports it", func(t *testing.T) {
		st.playOperator(esResource, map[string]any{"health": "green", "phase": "Ready", "availableNodes": 3, "version": "9.5.0"})
		st.playOperator(kibanaResource, map[string]any{"health": "green", "availableNodes": 1, "count": 1, "version": "9.5.0"})
		st.playOperator(beatResource, map[string]any{"health": "green", "availableNodes": 3, "expectedNodes": 3, "version": "9.5.0"})
		h := st.health()
		got := statuses(h)
		for _, c := range []string{"elasticsearch", "kibana", "filebeat"} {
			assert.Equal(t, sdk.Healthy, got[c], c)
		}
		assert.Equal(t, "green, phase Ready, 3/3 nodes available, version 9.5.0", message(h, "elasticsearch"))
		assert.Equal(t, sdk.Skipped, got["data views"], "the APIs still do not run")

		st.playOperator(esResource, map[string]any{"health": "yellow", "phase": "ApplyingChanges", "availableNodes": 2,
			"conditions": []any{map[string]any{"type": "ReconciliationComplete", "status": "False", "message": "Pod elasticsearch-es-default-2 is not ready"}}})
		st.playOperator(beatResource, map[string]any{"health": "yellow", "availableNodes": 2, "expectedNodes": 3})
		h = st.health()
		assert.Equal(t, sdk.Degraded, statuses(h)["elasticsearch"])
		assert.Equal(t, "yellow, phase ApplyingChanges, 2/3 nodes available; 1 of 3 nodes are not available; ReconciliationComplete: Pod elasticsearch-es-default-2 is not ready",
			message(h, "elasticsearch"))
		assert.Equal(t, sdk.Degraded, statuses(h)["filebeat"])
		assert.Contains(t, message(h, "filebeat"), "2/3 nodes available")
		assert.Equal(t, sdk.Degraded, h.Status())

		st.playOperator(esResource, map[string]any{"health": "red", "phase": "Ready", "availableNodes": 3,
			"conditions": []any{map[string]any{"type": "ElasticsearchIsReachable", "status": "False", "message": "Service logging/elasticsearch-es-http has no endpoint"}}})
		h = st.health()
		assert.Equal(t, sdk.Unhealthy, statuses(h)["elasticsearch"])
		assert.Contains(t, message(h, "elasticsearch"), "red")
		assert.Contains(t, message(h, "elasticsearch"), "ElasticsearchIsReachable: Service logging/elasticsearch-es-http has no endpoint")
		assert.Equal(t, sdk.Unhealthy, h.Status())
	})

	t.Run("kibana login", func(t *testing.T) {
		creds, err := st.kube.Credentials(ctx)
		require.NoError(t, err)
		kb := find(creds, st.ns)
		require.NotNil(t, kb, "lab credentials lists Kibana before ECK made the password")
		assert.Equal(t, "http://kibana.test.local", kb.URL)
		assert.Equal(t, "elastic", kb.Username)
		assert.Empty(t, kb.Password)

		// ECK generates the elastic user's password.
		_, err = st.kube.Kube.CoreV1().Secrets(st.ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: elasticUserSecret},
			Data:       map[string][]byte{"elastic": []byte("generated-by-eck")}}, metav1.CreateOptions{})
		require.NoError(t, err)
		assert.True(t, st.install().Changed, "the login gets the password")
		creds, err = st.kube.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "generated-by-eck", find(creds, st.ns).Password)
		assert.False(t, st.install().Changed)
	})

	t.Run("uninstall", func(t *testing.T) {
		// ECK's finalizer and volume, as the operator leaves them while it runs.
		es, err := st.get(esResource)
		require.NoError(t, err)
		es.SetFinalizers([]string{"test.k8s.elastic.co/operator-finishing"})
		_, err = st.kube.Dynamic.Resource(esResource.gvr).Namespace(st.ns).Update(ctx, es, metav1.UpdateOptions{})
		require.NoError(t, err)
		_, err = st.kube.Kube.CoreV1().PersistentVolumeClaims(st.ns).Create(ctx, &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "elasticsearch-data-elasticsearch-es-default-0"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("5Gi")}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)

		done := make(chan error, 1)
		go func() {
			_, err := st.client.Uninstall(ctx, st.req)
			done <- err
		}()
		// The operator is still there while Elasticsearch is being deleted.
		require.Eventually(t, func() bool {
			o, err := st.get(esResource)
			return err == nil && o.GetDeletionTimestamp() != nil
		}, time.Minute, 200*time.Millisecond)
		_, err = st.kube.Kube.AppsV1().StatefulSets(st.ns).Get(ctx, "elastic-operator", metav1.GetOptions{})
		require.NoError(t, err, "the operator stays until its resources are gone")
		es, err = st.get(esResource)
		require.NoError(t, err)
		es.SetFinalizers(nil) // the operator finishes
		_, err = st.kube.Dynamic.Resource(esResource.gvr).Namespace(st.ns).Update(ctx, es, metav1.UpdateOptions{})
		require.NoError(t, err)
		require.NoError(t, <-done)

		for _, r := range eckResources {
			_, err := st.get(r)
			assert.True(t, apierrors.IsNotFound(err), "%s deleted", r.kind)
		}
		_, err = st.kube.Kube.AppsV1().StatefulSets(st.ns).Get(ctx, "elastic-operator", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "the operator is gone")
		_, err = st.kube.Kube.CoreV1().PersistentVolumeClaims(st.ns).Get(ctx, "elasticsearch-data-elasticsearch-es-default-0", metav1.GetOptions{})
		assert.NoError(t, err, "the data stays without --purge-data")
		_, err = st.kube.Dynamic.Resource(crdGVR).Get(ctx, "elasticsearches.elasticsearch.k8s.elastic.co", metav1.GetOptions{})
		assert.NoError(t, err, "the CRDs stay without --purge-data")
		assert.NotEqual(t, sdk.Healthy, st.health().Status())

		st.req.PurgeData = true
		_, err = st.client.Uninstall(ctx, st.req)
		require.NoError(t, err)
		_, err = st.kube.Kube.CoreV1().Namespaces().Get(ctx, st.ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "the namespace goes with its volumes")
		assert.Eventually(t, func() bool { // the API server finishes a deleted CRD's objects first
			_, err = st.kube.Dynamic.Resource(crdGVR).Get(ctx, "elasticsearches.elasticsearch.k8s.elastic.co", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, time.Minute, 200*time.Millisecond, "the CRDs go with --purge-data")
	})
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func find(creds []kube.Credential, ns string) *kube.Credential {
	for i := range creds {
		if creds[i].UI == "kibana" && creds[i].Namespace == ns {
			return &creds[i]
		}
	}
	return nil
}

func ptr(q resource.Quantity) *resource.Quantity { return &q }
