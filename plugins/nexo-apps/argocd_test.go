package nexoapps

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// argoCDCRDs applies the Application CRD of the real argo-cd chart and makes Argo CD's
// namespace with the repository Secret the argocd stack registers; no Argo CD runs.
func argoCDCRDs(t *testing.T, ctx context.Context) {
	ch, err := loader.LoadFile(filepath.Join(testenv.UpstreamCharts(t), "argo-cd-10.1.1.tgz"))
	require.NoError(t, err)
	// The chart ships its CRDs as templates (crds.install); render them as Helm would.
	rv, err := chartutil.ToRenderValues(ch, nil, chartutil.ReleaseOptions{Name: "argocd", Namespace: argocdNamespace}, chartutil.DefaultCapabilities)
	require.NoError(t, err)
	out, err := engine.Render(ch, rv)
	require.NoError(t, err)
	c := connect(t)
	crd := out["argo-cd/templates/crds/crd-application.yaml"]
	require.NotEmpty(t, crd)
	_, err = c.ApplyYAML(ctx, "", crd)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		present, err := argoCDPresent(ctx, c)
		return err == nil && present
	}, time.Minute, 200*time.Millisecond, "the Application kind is served once the argocd namespace exists")
}

// With Argo CD there, the stack creates one Application per application and environment
// in the argocd namespace, from apps/<app> with that environment's values file, and no
// Helm release of the applications; health says their sync is not checked on kwok.
func TestArgoCDDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c := connect(t)
	_, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: argocdNamespace}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Kube.CoreV1().Secrets(argocdNamespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "lab-repository", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: map[string]string{"type": "git", "url": "https://git.example/team/nexo"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	argoCDCRDs(t, ctx)

	st := New()
	cfg := defaults()
	cfg.Environments = []string{"develop", "qa"}
	req := request(t, cfg)
	_, err = st.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() {
		req.PurgeData = true
		_, _ = st.Uninstall(context.Background(), req)
	})

	apps, err := c.Dynamic.Resource(applicationsGVR).Namespace(argocdNamespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	got := map[string][]string{}
	for _, a := range apps.Items {
		src := a.Object["spec"].(map[string]any)["source"].(map[string]any)
		dst := a.Object["spec"].(map[string]any)["destination"].(map[string]any)
		vf := src["helm"].(map[string]any)["valueFiles"].([]any)
		auto, _, _ := unstructured.NestedBool(a.Object, "spec", "syncPolicy", "automated", "selfHeal")
		project, _, _ := unstructured.NestedString(a.Object, "spec", "project")
		got[a.GetName()] = []string{src["repoURL"].(string), src["path"].(string), vf[0].(string), dst["namespace"].(string), project, map[bool]string{true: "auto"}[auto]}
	}
	repo := "https://git.example/team/nexo"
	assert.Equal(t, map[string][]string{
		"nexo-auth-local": {repo, "apps/nexo-auth", "values-local.yaml", "nexo-data", "nexo", "auto"},
		"nexo-fe-local":   {repo, "apps/nexo-fe", "values-local.yaml", "nexo-local", "nexo", "auto"},
		"nexo-be-local":   {repo, "apps/nexo-be", "values-local.yaml", "nexo-local", "nexo", "auto"},
		"nexo-fe-qa":      {repo, "apps/nexo-fe", "values-qa.yaml", "nexo-qa", "nexo", "auto"},
		"nexo-be-qa":      {repo, "apps/nexo-be", "values-qa.yaml", "nexo-qa", "nexo", "auto"},
	}, got)
	rel, err := helm.New(c).Deployed("nexo-be-qa", "nexo-qa")
	require.NoError(t, err)
	assert.Nil(t, rel, "Argo CD, not Helm, delivers the applications")
	sec, err := c.Kube.CoreV1().Secrets("nexo-qa").Get(ctx, beSecret, metav1.GetOptions{})
	require.NoError(t, err, "the platform objects are there whichever delivers the charts")
	assert.NotEmpty(t, sec.Data["DATABASE_PASSWORD"])

	h, err := st.Health(ctx, req)
	require.NoError(t, err)
	s := statuses(h)
	assert.Equal(t, sdk.Skipped, s["nexo-be-qa application"])
	assert.Equal(t, sdk.Healthy, s["postgres rollout"])
	assert.Equal(t, sdk.Healthy, h.Status(), "%v", h.Checks)

	// An environment taken out takes its Applications along; Helm delivery removes the rest.
	cfg.Environments = []string{"develop"}
	_, err = st.Install(ctx, request(t, cfg))
	require.NoError(t, err)
	_, err = c.Dynamic.Resource(applicationsGVR).Namespace(argocdNamespace).Get(ctx, "nexo-be-qa", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "%v", err)
	cfg.Delivery = "helm"
	_, err = st.Install(ctx, request(t, cfg))
	require.NoError(t, err)
	apps, err = c.Dynamic.Resource(applicationsGVR).Namespace(argocdNamespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, apps.Items)
	rel, err = helm.New(c).Deployed("nexo-be-local", "nexo-local")
	require.NoError(t, err)
	assert.NotNil(t, rel, "Helm delivers them now")
}

// A backup on kwok finds PostgreSQL's and Redis's pods and says what it would dump.
func TestBackupOnSimulatedClusterNamesItsPods(t *testing.T) {
	ctx := context.Background()
	st := New()
	cfg := defaults()
	cfg.Delivery = "helm"
	cfg.Environments = []string{"develop"}
	req := request(t, cfg)
	_, err := st.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() {
		req.PurgeData = true
		_, _ = st.Uninstall(context.Background(), req)
	})
	req.Dir = t.TempDir()
	res, err := st.Backup(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, res.Files, "secrets.yaml")
	assert.Contains(t, res.Summary, "nexo-data/postgres-0 (nexo, nexo_auth)")
	assert.Contains(t, res.Summary, "nexo-data/redis-0")
}
