package kube_test

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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 1, &cluster) }

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crd is a namespaced CRD of group test.lab.io; note is an annotation that tells copies apart.
func crd(plural, kind, note string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[1]s.test.lab.io
  annotations: {note: %[3]s}
spec:
  group: test.lab.io
  scope: Namespaced
  names: {plural: %[1]s, singular: %[2]s, kind: %[4]s, listKind: %[4]sList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`, plural, strings.ToLower(kind), note, kind)
}

// writeChart writes a chart folder with the given files (path: content) and returns it.
func writeChart(t *testing.T, name string, files map[string]string) kube.Chart {
	dir := filepath.Join(t.TempDir(), name)
	files["Chart.yaml"] = "apiVersion: v2\nname: " + name + "\nversion: 1.0.0\n"
	for p, content := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644))
	}
	return kube.Chart{Name: name, Version: "1.0.0", Repository: dir}
}

func connect(t *testing.T) (*kube.Client, *sdk.Request, context.Context) {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c, &sdk.Request{Cluster: cluster.Conn}, ctx
}

// A first install creates the CRDs of the chart's crds/ folder that the cluster lacks,
// leaves one that exists as it is (as Helm does), and the chart's own objects of those
// kinds install in the same run.
func TestInstallCreatesTheChartsCRDs(t *testing.T) {
	c, req, ctx := connect(t)
	_, err := c.ApplyYAML(ctx, "", crd("gadgets", "Gadget", "before"))
	require.NoError(t, err)
	ch := writeChart(t, "crdchart", map[string]string{
		"crds/widgets.yaml":      crd("widgets", "Widget", "chart"),
		"crds/gadgets.yaml":      crd("gadgets", "Gadget", "chart"),
		"templates/objects.yaml": "apiVersion: test.lab.io/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n---\napiVersion: test.lab.io/v1\nkind: Gadget\nmetadata: {name: g1}\n",
	})
	out, err := c.Apply(ctx, req, kube.Release{Name: "crdchart", Namespace: "crdtest", Chart: ch})
	require.NoError(t, err)
	assert.True(t, out.Changed)

	for name, note := range map[string]string{"widgets.test.lab.io": "chart", "gadgets.test.lab.io": "before"} {
		got, err := c.Dynamic.Resource(crds).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err, name)
		assert.Equal(t, note, got.GetAnnotations()["note"], "CRD %s", name)
	}
	w, err := c.Dynamic.Resource(schema.GroupVersionResource{Group: "test.lab.io", Version: "v1", Resource: "widgets"}).
		Namespace("crdtest").Get(ctx, "w1", metav1.GetOptions{})
	require.NoError(t, err)
	size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size")
	assert.Equal(t, int64(3), size)
	rel, err := c.Deployed("crdchart", "crdtest")
	require.NoError(t, err)
	require.NotNil(t, rel)
	assert.Equal(t, "deployed", rel.Info.Status.String())
}

// Without Helm's client-side schema validation a manifest of the wrong shape still fails
// the install: the API server refuses the object and says which field.
func TestInstallOfAWrongTypeFailsWithTheServersMessage(t *testing.T) {
	c, req, ctx := connect(t)
	ch := writeChart(t, "badchart", map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {count: [1, 2]}\n",
	})
	_, err := c.Apply(ctx, req, kube.Release{Name: "badchart", Namespace: "badtest", Chart: ch, Timeout: time.Minute})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ConfigMap.data")
	_, err = c.Kube.CoreV1().ConfigMaps("badtest").Get(ctx, "bad", metav1.GetOptions{})
	assert.Error(t, err, "no ConfigMap was made")
}
