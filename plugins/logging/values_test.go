package logging

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helm/chartkeys"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

func releasesOf(t *testing.T, req *sdk.Request) []helm.Release {
	rels, err := New().Releases(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, rels, 2)
	return rels
}

// Every key the plugin sets exists in the charts' reference values. The subcharts'
// values.yaml show some keys only in comments (daemonSet, podTemplate, http,
// fullnameOverride), and free-form Kubernetes objects under nodeSets and podTemplate.
func TestValuesUseOnlyChartKeys(t *testing.T) {
	for _, provider := range []string{"k3d", "kwok"} {
		req := &sdk.Request{Config: defaults(), Cluster: sdk.Cluster{Provider: provider, Simulated: provider == "kwok"}}
		rels := releasesOf(t, req)
		keys, err := chartkeys.Load(rels[0].Chart.Name, rels[0].Chart.Version)
		require.NoError(t, err)
		assert.Empty(t, keys.Unknown(rels[0].Values, "resources"), "eck-operator")

		stack := rels[1].Values
		keys, err = chartkeys.Load("eck-stack", "0.20.0")
		require.NoError(t, err)
		assert.Empty(t, keys.Unknown(stack, "eck-elasticsearch", "eck-kibana", "eck-beats"))
		for sub, free := range map[string][]string{
			"eck-elasticsearch": {"nodeSets"},
			"eck-kibana":        {"config", "http", "podTemplate", "fullnameOverride", "ingress.hosts"},
			"eck-beats":         {"daemonSet", "fullnameOverride"},
		} {
			k, err := chartkeys.Load(sub, "0.20.0")
			require.NoError(t, err)
			values := stack[sub].(map[string]any)
			var unknown []string
			for _, u := range k.Unknown(values, free...) {
				if _, documented := map[string]bool{"enabled": true, "fullnameOverride": true, "daemonSet": true,
					"http": true, "podTemplate": true}[u]; !documented {
					unknown = append(unknown, u)
				}
			}
			assert.Empty(t, unknown, "%s on %s", sub, provider)
		}
	}
}

// The resources the stack requests fit the logging quota for every allowed node count,
// with an upgrade's extra Elasticsearch node and Kibana pod, and Filebeat on 3 nodes; a
// 4th node would not.
func TestSizingFitsTheQuotaWithSurge(t *testing.T) {
	fits := func(n int) bool {
		cfg := defaults()
		cfg.ElasticsearchNodes = n
		fixed, perNode := kube.FootprintOf(containers(cfg, true))
		total := fixed.Plus(perNode, 3)
		return total.CPURequestMillis <= milli(quota.RequestsCPU) && total.MemoryRequestBytes <= byteSize(quota.RequestsMemory) &&
			total.CPULimitMillis <= milli(quota.LimitsCPU) && total.MemoryLimitBytes <= byteSize(quota.LimitsMemory)
	}
	for n := 1; n <= 3; n++ {
		assert.True(t, fits(n), "%d nodes", n)
	}
	assert.False(t, fits(4), "the schema's maximum of 3 is the quota's")
	assert.Equal(t, 3, New().Config().(*Config).ElasticsearchNodes, "3 nodes by default")
}

func milli(q string) int64    { v := resource.MustParse(q); return v.MilliValue() }
func byteSize(q string) int64 { v := resource.MustParse(q); return v.Value() }

// Elasticsearch, as the Elasticsearch resource the real chart makes: the nodes, heap from
// the memory request, no mmap, volumes kept on deletion, the snapshot folder.
func TestElasticsearchResource(t *testing.T) {
	cfg := defaults()
	cfg.ElasticsearchNodes = 1
	cfg.StorageClass = "fast"
	es := renderStack(t, cfg)["Elasticsearch"]
	require.NotNil(t, es)
	spec := es.Object["spec"].(map[string]any)
	assert.Equal(t, "DeleteOnScaledownOnly", spec["volumeClaimDeletePolicy"])
	set := spec["nodeSets"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 1, set["count"])
	assert.Equal(t, false, set["config"].(map[string]any)["node.store.allow_mmap"])
	assert.Equal(t, []any{snapshotMount}, set["config"].(map[string]any)["path.repo"])
	claim := set["volumeClaimTemplates"].([]any)[0].(map[string]any)
	assert.Equal(t, "elasticsearch-data", claim["metadata"].(map[string]any)["name"], "the name ECK mounts as the data volume")
	size, _, _ := unstructured.NestedString(claim, "spec", "resources", "requests", "storage")
	assert.Equal(t, "5Gi", size)
	assert.Equal(t, "fast", claim["spec"].(map[string]any)["storageClassName"])
	c := set["podTemplate"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	assert.Equal(t, "-Xms320m -Xmx320m", c["env"].([]any)[0].(map[string]any)["value"], "heap is half of the 640Mi request")
	mem, _, _ := unstructured.NestedString(c, "resources", "requests", "memory")
	assert.Equal(t, "640Mi", mem)

	cfg.StorageClass = ""
	set = renderStack(t, cfg)["Elasticsearch"].Object["spec"].(map[string]any)["nodeSets"].([]any)[0].(map[string]any)
	_, has := set["volumeClaimTemplates"].([]any)[0].(map[string]any)["spec"].(map[string]any)["storageClassName"]
	assert.False(t, has, "no class is the cluster's default class")
}

// Kibana at kibana.<domain> through the default IngressClass, plain HTTP behind it.
func TestKibanaIngress(t *testing.T) {
	objs := renderStack(t, defaults())
	ing := objs["Ingress"]
	require.NotNil(t, ing)
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	require.Len(t, rules, 1)
	assert.Equal(t, "kibana.nexo.local", rules[0].(map[string]any)["host"])
	_, hasClass, _ := unstructured.NestedString(ing.Object, "spec", "ingressClassName")
	assert.False(t, hasClass, "the ingress stack's class is the cluster default")
	backend, _, _ := unstructured.NestedMap(rules[0].(map[string]any), "http")
	assert.Contains(t, backend["paths"].([]any)[0].(map[string]any)["backend"].(map[string]any)["service"].(map[string]any)["name"], "kibana-kb-http")
	disabled, _, _ := unstructured.NestedBool(objs["Kibana"].Object, "spec", "http", "tls", "selfSignedCertificate", "disabled")
	assert.True(t, disabled)
	url, _, _ := unstructured.NestedString(objs["Kibana"].Object, "spec", "config", "server.publicBaseUrl")
	assert.Equal(t, "http://kibana.nexo.local", url)
}

func TestWebhookOffOnlyOnSimulatedClusters(t *testing.T) {
	webhook := func(simulated bool) any {
		rels := releasesOf(t, &sdk.Request{Config: defaults(), Cluster: sdk.Cluster{Simulated: simulated}})
		return rels[0].Values["webhook"].(map[string]any)["enabled"]
	}
	assert.Equal(t, true, webhook(false))
	assert.Equal(t, false, webhook(true))
}

// The user's chart blocks pin, mirror and patch both charts.
func TestChartOverrides(t *testing.T) {
	rels := releasesOf(t, &sdk.Request{Config: defaults(), Charts: map[string]sdk.ChartOverride{
		"eck-stack": {Repository: "oci://mirror.example/elastic", Version: "0.20.1",
			Values: map[string]any{"eck-kibana": map[string]any{"count": 2}}},
		"eck-operator": {Version: "3.5.1"},
	}})
	assert.Equal(t, "3.5.1", rels[0].Chart.Version)
	assert.Equal(t, "https://helm.elastic.co", rels[0].Chart.Repository)
	assert.Equal(t, "oci://mirror.example/elastic", rels[1].Chart.Repository)
	assert.Equal(t, "0.20.1", rels[1].Chart.Version)
	kb := rels[1].Values["eck-kibana"].(map[string]any)
	assert.Equal(t, 2, kb["count"], "the user's value wins")
	assert.Equal(t, kibanaName, kb["fullnameOverride"], "generated values the user did not touch stay")
}

// The index templates put the indices under the policy with a replica when there is a
// second node.
func TestIndexTemplates(t *testing.T) {
	cfg := defaults()
	tpl := indexTemplates(cfg)
	assert.Equal(t, []string{"app-*"}, tpl["lab-app"]["index_patterns"])
	assert.Equal(t, []string{"k8s-*"}, tpl["lab-k8s"]["index_patterns"])
	assert.Equal(t, 1, dig(tpl["lab-app"], "template", "settings", "index", "number_of_replicas"))
	assert.Equal(t, policyName, dig(tpl["lab-k8s"], "template", "settings", "index", "lifecycle", "name"))
	assert.Equal(t, "flattened", dig(tpl["lab-k8s"], "template", "mappings", "properties", "json", "type"))
	cfg.ElasticsearchNodes = 1
	assert.Equal(t, 0, dig(indexTemplates(cfg)["lab-app"], "template", "settings", "index", "number_of_replicas"), "no replica without a second node")
}
