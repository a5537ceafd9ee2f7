package helm_test

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
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/nexolab/lab/core/helm"
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

// templatedCRD is crd as a chart template whose note annotation is the value note.
func templatedCRD(plural, kind string) string {
	return strings.Replace(crd(plural, kind, "x"), "{note: x}", "{note: {{ .Values.note | quote }}}", 1)
}

// writeChart writes a chart folder with the given files (path: content) and returns it.
func writeChart(t *testing.T, name string, files map[string]string) helm.Chart {
	dir := filepath.Join(t.TempDir(), name)
	files["Chart.yaml"] = "apiVersion: v2\nname: " + name + "\nversion: 1.0.0\n"
	for p, content := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644))
	}
	return helm.Chart{Name: name, Version: "1.0.0", Repository: dir}
}

func connect(t *testing.T) (*helm.Client, *sdk.Request, context.Context) {
	kc, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	c := helm.New(kc)
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
	out, err := c.Apply(ctx, req, helm.Release{Name: "crdchart", Namespace: "crdtest", Chart: ch})
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
	_, err := c.Apply(ctx, req, helm.Release{Name: "badchart", Namespace: "badtest", Chart: ch, Timeout: time.Minute})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ConfigMap.data")
	_, err = c.Kube.CoreV1().ConfigMaps("badtest").Get(ctx, "bad", metav1.GetOptions{})
	assert.Error(t, err, "no ConfigMap was made")
}

// A chart's templated CRDs are applied before Helm builds the rest, so the chart's own
// objects of their kinds install in the same run (Helm alone fails: no match for the
// kind). They stay out of the release: an upgrade keeps them current, an uninstall leaves
// them, as Helm does with a crds/ folder.
func TestTemplatedCRDsApplyBeforeTheChartsObjects(t *testing.T) {
	c, req, ctx := connect(t)
	ch := writeChart(t, "tplcrds", map[string]string{
		"templates/crd.yaml":    templatedCRD("sprockets", "Sprocket"),
		"templates/object.yaml": "apiVersion: test.lab.io/v1\nkind: Sprocket\nmetadata: {name: s1}\nspec: {size: 2}\n",
	})
	note := func() string {
		got, err := c.Dynamic.Resource(crds).Get(ctx, "sprockets.test.lab.io", metav1.GetOptions{})
		require.NoError(t, err)
		return got.GetAnnotations()["note"]
	}
	rel := helm.Release{Name: "tplcrds", Namespace: "tplcrds", Chart: ch, Values: map[string]any{"note": "one"}}
	_, err := c.Apply(ctx, req, rel)
	require.NoError(t, err)
	assert.Equal(t, "one", note())
	_, err = c.Dynamic.Resource(schema.GroupVersionResource{Group: "test.lab.io", Version: "v1", Resource: "sprockets"}).
		Namespace("tplcrds").Get(ctx, "s1", metav1.GetOptions{})
	require.NoError(t, err, "the chart's Sprocket")
	deployed, err := c.Deployed("tplcrds", "tplcrds")
	require.NoError(t, err)
	assert.NotContains(t, deployed.Manifest, "CustomResourceDefinition")
	assert.Contains(t, deployed.Manifest, "kind: Sprocket")

	rel.Values = map[string]any{"note": "two"}
	out, err := c.Apply(ctx, req, rel)
	require.NoError(t, err)
	assert.Equal(t, 2, out.Revision)
	assert.Equal(t, "two", note(), "the upgrade applied the CRD again")

	gone, err := c.Uninstall(ctx, "tplcrds", "tplcrds")
	require.NoError(t, err)
	assert.True(t, gone)
	assert.Equal(t, "two", note(), "the CRD outlives the release")
}

// helm upgrade of a release lab installed, by hand, adopts the templated CRDs lab applied
// (they carry Helm's ownership marks of the release); lab's next upgrade leaves them in the
// release Helm made them part of.
func TestHelmUpgradeAdoptsTheCRDsLabApplied(t *testing.T) {
	c, req, ctx := connect(t)
	ch := writeChart(t, "adopted", map[string]string{
		"templates/crd.yaml": templatedCRD("gears", "Gear"),
	})
	rel := helm.Release{Name: "adopted", Namespace: "adopted", Chart: ch, Values: map[string]any{"note": "lab"}}
	_, err := c.Apply(ctx, req, rel)
	require.NoError(t, err)

	loaded, err := loader.Load(ch.Repository)
	require.NoError(t, err)
	byHand, err := action.NewUpgrade(helmConfig(t, "adopted")).RunWithContext(ctx, "adopted", loaded, map[string]any{"note": "helm"})
	require.NoError(t, err)
	assert.Contains(t, byHand.Manifest, "CustomResourceDefinition")

	rel.Values = map[string]any{"note": "lab again"}
	_, err = c.Apply(ctx, req, rel)
	require.NoError(t, err)
	deployed, err := c.Deployed("adopted", "adopted")
	require.NoError(t, err)
	assert.Equal(t, 3, deployed.Version)
	assert.Contains(t, deployed.Manifest, "CustomResourceDefinition")
	got, err := c.Dynamic.Resource(crds).Get(ctx, "gears.test.lab.io", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "lab again", got.GetAnnotations()["note"])
}

// A release that an earlier lab installed with its templated CRDs in the manifest keeps
// them there on upgrade: Helm deletes what leaves a release's manifest, and deleting a CRD
// deletes every object of its kind.
func TestAnEarlierReleaseKeepsItsTemplatedCRDs(t *testing.T) {
	c, req, ctx := connect(t)
	ch := writeChart(t, "oldcrds", map[string]string{
		"templates/crd.yaml": templatedCRD("cogs", "Cog"),
	})
	// Helm itself, as lab installed such charts before.
	loaded, err := loader.Load(ch.Repository)
	require.NoError(t, err)
	in := action.NewInstall(helmConfig(t, "oldcrds"))
	in.ReleaseName, in.Namespace, in.CreateNamespace = "oldcrds", "oldcrds", true
	_, err = in.RunWithContext(ctx, loaded, map[string]any{"note": "one"})
	require.NoError(t, err)

	_, err = c.Apply(ctx, req, helm.Release{Name: "oldcrds", Namespace: "oldcrds", Chart: ch, Values: map[string]any{"note": "two"}})
	require.NoError(t, err)
	deployed, err := c.Deployed("oldcrds", "oldcrds")
	require.NoError(t, err)
	assert.Equal(t, 2, deployed.Version)
	assert.Contains(t, deployed.Manifest, "CustomResourceDefinition", "the CRD stays in the release")
	got, err := c.Dynamic.Resource(crds).Get(ctx, "cogs.test.lab.io", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "two", got.GetAnnotations()["note"])
}

// helmConfig is Helm's own configuration for a namespace of the test cluster, as the helm
// CLI makes it.
func helmConfig(t *testing.T, namespace string) *action.Configuration {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &cluster.Kubeconfig
	cfg := new(action.Configuration)
	require.NoError(t, cfg.Init(flags, namespace, "secret", func(string, ...any) {}))
	return cfg
}
