package argocd

import (
	"context"
	"encoding/json"
	"maps"
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
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

// The tests share one kwok cluster and, like a lab, one argocd namespace and release: each
// installs the stack and uninstalls it when done, so they run one after the other.
var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }

// crdsGVR is where the tests look for Argo CD's CRDs.
var crdsGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// nexoApps are Applications a test configures; in a lab the nexo-apps stack makes these.
var nexoApps = map[string]string{"nexo-be-local": "apps/nexo-be", "nexo-fe-local": "apps/nexo-fe", "nexo-auth-local": "apps/nexo-auth"}

func withApps(cfg *Config) { cfg.Applications = maps.Clone(nexoApps) }

func connect(t *testing.T) *kube.Client {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	return c
}

// installed installs the stack with the test chart, the config changed by mod, and
// uninstalls it at the end of the test.
func installed(t *testing.T, mod func(*Config)) (*Stack, *sdk.Request) {
	t.Helper()
	return installedFrom(t, testenv.ChartRepo(t, "argo-cd"), mod)
}

// installedFrom is installed with the argo-cd chart of a chart repository.
func installedFrom(t *testing.T, repo string, mod func(*Config)) (*Stack, *sdk.Request) {
	t.Helper()
	s := New()
	cfg := s.Config().(*Config)
	if mod != nil {
		mod(cfg)
	}
	req := &sdk.Request{Stack: stackName, Cluster: cluster.Conn, Lab: sdk.Lab{Name: "test", Domain: "test.local"},
		Config: cfg, Charts: map[string]sdk.ChartOverride{"argo-cd": {Repository: repo}},
		OnEvent: func(e sdk.Event) { t.Logf("%s: %s", e.Step, e.Message) }}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, err := s.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, err := s.Uninstall(ctx, req)
		assert.NoError(t, err, "uninstall at cleanup")
	})
	return s, req
}

func statusOf(h *sdk.Health, name string) sdk.Status {
	for _, c := range h.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

func checkOf(h *sdk.Health, name string) sdk.Check {
	for _, c := range h.Checks {
		if c.Name == name {
			return c
		}
	}
	return sdk.Check{}
}

func getApp(t *testing.T, c *kube.Client, name string) (*unstructured.Unstructured, error) {
	return c.Dynamic.Resource(applicationsGVR).Namespace(namespace).Get(context.Background(), name, metav1.GetOptions{})
}

// The plugin passes the conformance run (Info, Schema, Install, Health, Install again
// without a new revision, Uninstall) against the test chart served as a chart repository.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Options{
		Binary:  testenv.BuildPlugin(t, stackName),
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
		Charts:  map[string]sdk.ChartOverride{"argo-cd": {Repository: testenv.ChartRepo(t, "argo-cd")}},
	})
}

// What the chart made, with the plugin's values: components found by the upstream names and
// labels, the server Ingress, the hook Job, resources inside the quota. Once with the test
// chart, once with the real upstream argo-cd 10.1.1 (skipped where it is not at hand).
func TestReleaseOnKwok(t *testing.T) {
	t.Run("test chart", func(t *testing.T) { releaseOnKwok(t, testenv.ChartRepo(t, "argo-cd")) })
	t.Run("upstream chart", func(t *testing.T) { releaseOnKwok(t, testenv.UpstreamRepo(t)) })
}

func releaseOnKwok(t *testing.T, repo string) {
	ctx := context.Background()
	s, req := installedFrom(t, repo, withApps)
	c := connect(t)

	h, err := s.Health(ctx, req)
	require.NoError(t, err)
	want := map[string]sdk.Status{
		"server": sdk.Healthy, "repo-server": sdk.Healthy, "application controller": sdk.Healthy,
		"applicationset controller": sdk.Healthy, "notifications controller": sdk.Healthy, "redis": sdk.Healthy,
		"ingress": sdk.Healthy, "admin password": sdk.Healthy, "server probe": sdk.Skipped,
		"repository": sdk.Healthy, "project nexo": sdk.Healthy,
		"application nexo-be-local": sdk.Skipped, "application nexo-fe-local": sdk.Skipped, "application nexo-auth-local": sdk.Skipped,
	}
	got := map[string]sdk.Status{}
	for _, ch := range h.Checks {
		got[ch.Name] = ch.Status
		t.Logf("%s: %s: %s", ch.Name, ch.Status, ch.Message)
	}
	assert.Equal(t, want, got)
	assert.Equal(t, sdk.Healthy, h.Status(), "skipped checks do not count")
	assert.Contains(t, checkOf(h, "application nexo-be-local").Message, "simulated")
	assert.Equal(t, []sdk.Endpoint{{Name: "argocd", URL: "https://argocd.test.local"}}, h.Endpoints)

	sts, err := c.Kube.AppsV1().StatefulSets(namespace).Get(ctx, "argocd-application-controller", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "argocd-application-controller", sts.Labels["app.kubernetes.io/name"])
	_, err = c.Kube.AppsV1().Deployments(namespace).Get(ctx, "argocd-dex-server", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "dex is disabled")

	ing, err := c.Kube.NetworkingV1().Ingresses(namespace).Get(ctx, "argocd-server", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Nil(t, ing.Spec.IngressClassName, "the default class serves it")
	assert.Equal(t, "argocd.test.local", ing.Spec.Rules[0].Host)

	cm, err := c.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, "argocd-cm", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "180s", cm.Data["timeout.reconciliation"])
	assert.Equal(t, "https://argocd.test.local", cm.Data["url"])
	params, err := c.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, "argocd-cmd-params-cm", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "true", params.Data["server.insecure"])

	crd, err := c.Dynamic.Resource(crdsGVR).Get(ctx, "applications.argoproj.io", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "keep", crd.GetAnnotations()["helm.sh/resource-policy"], "uninstall keeps the CRDs")

	// Every pod runs with the resources the plugin gives, not the LimitRange's defaults,
	// and the quota counts exactly the footprint.
	byContainer := map[string]kube.Container{}
	for _, comp := range containers {
		byContainer[comp.Name] = comp
	}
	pods, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		running++
		for _, ct := range append(p.Spec.InitContainers, p.Spec.Containers...) {
			comp, ok := byContainer[ct.Name]
			if !assert.True(t, ok, "pod %s runs an unknown container %s", p.Name, ct.Name) {
				continue
			}
			r := ct.Resources
			assert.Equal(t, []string{comp.CPU, comp.Memory, comp.CPULimit, comp.MemoryLimit},
				[]string{r.Requests.Cpu().String(), r.Requests.Memory().String(), r.Limits.Cpu().String(), r.Limits.Memory().String()},
				"container %s of pod %s", ct.Name, p.Name)
		}
	}
	assert.Equal(t, 6, running, "controller, server, repo-server, applicationset, notifications, redis")
	q, err := c.Kube.CoreV1().ResourceQuotas(namespace).Get(ctx, "lab-quota", metav1.GetOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		q, err = c.Kube.CoreV1().ResourceQuotas(namespace).Get(ctx, "lab-quota", metav1.GetOptions{})
		cpu := q.Status.Used["requests.cpu"]
		return err == nil && cpu.String() == "250m"
	}, 30*time.Second, 200*time.Millisecond, "quota used: %v", q.Status.Used)
	mem := q.Status.Used["requests.memory"]
	assert.Equal(t, "328Mi", mem.String())
	lim := q.Status.Used["limits.memory"]
	assert.Equal(t, "1344Mi", lim.String())
}

// An upgrade that rolls every component out at once stays inside the quota: each
// RollingUpdate Deployment gets its extra pod without being refused. (A StatefulSet pod
// re-created right after its predecessor is deleted can be refused for a moment, because
// the quota controller counts usage asynchronously; its controller retries, so only the
// ReplicaSets' surge pods are held to this.)
func TestUpgradeRollsOutInsideTheQuota(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, req := installed(t, nil)
	c := connect(t)
	since := time.Now().Add(-time.Second)
	req.Charts["argo-cd"] = sdk.ChartOverride{Repository: req.Charts["argo-cd"].Repository, Values: map[string]any{
		"global": map[string]any{"image": map[string]any{"tag": "v3.4.5"}},
		"redis":  map[string]any{"image": map[string]any{"tag": "8.2.4-alpine"}},
	}}
	res, err := s.Install(ctx, req)
	require.NoError(t, err)
	require.True(t, res.Changed)
	assert.Equal(t, 2, res.Releases[0].Revision)

	deps, err := c.Kube.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, d := range deps.Items {
		img := d.Spec.Template.Spec.Containers[0].Image
		assert.True(t, strings.HasSuffix(img, ":v3.4.5") || strings.HasSuffix(img, ":8.2.4-alpine"), "%s runs %s", d.Name, img)
	}
	events, err := c.Kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, e := range events.Items {
		if (e.LastTimestamp.After(since) || e.EventTime.After(since)) && e.InvolvedObject.Kind == "ReplicaSet" {
			assert.NotContains(t, e.Message, "exceeded quota", "%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
		}
	}
}

// The AppProject and the Applications are made as configured; an Application removed
// from the config is deleted, one lab did not make is left alone.
func TestGitOpsObjects(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, withApps)
	c := connect(t)

	proj, err := c.Dynamic.Resource(appProjectsGVR).Namespace(namespace).Get(ctx, "nexo", metav1.GetOptions{})
	require.NoError(t, err)
	repos, _, _ := unstructured.NestedStringSlice(proj.Object, "spec", "sourceRepos")
	assert.Equal(t, []string{"https://github.com/usuario/nexo"}, repos)
	dests, _, _ := unstructured.NestedSlice(proj.Object, "spec", "destinations")
	assert.Equal(t, []any{map[string]any{"server": "https://kubernetes.default.svc", "namespace": "nexo-local"},
		map[string]any{"server": "https://kubernetes.default.svc", "namespace": "nexo-*"}}, dests,
		"the nexo-apps stack's Applications deploy into every nexo-<environment> and nexo-data")

	for name, path := range nexoApps {
		app, err := getApp(t, c, name)
		require.NoError(t, err, name)
		spec := app.Object["spec"].(map[string]any)
		assert.Equal(t, "nexo", spec["project"], name)
		assert.Equal(t, map[string]any{"repoURL": "https://github.com/usuario/nexo", "targetRevision": "HEAD", "path": path}, spec["source"], name)
		assert.Equal(t, map[string]any{"server": "https://kubernetes.default.svc", "namespace": "nexo-local"}, spec["destination"], name)
		auto, _, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
		assert.Equal(t, map[string]any{"prune": true, "selfHeal": true}, auto, name)
		assert.Contains(t, app.GetFinalizers(), cascadeFinalizer, name)
	}
	repo, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, repoSecret, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "repository", repo.Labels[secretTypeLabel])
	assert.Equal(t, "https://github.com/usuario/nexo", string(repo.Data["url"]))
	assert.NotContains(t, repo.Data, "password", "a public repository has no credentials")

	// An Application someone made in Argo CD is not lab's to prune.
	user := applicationObject(req.Config.(*Config), "made-by-hand")
	user.SetLabels(nil)
	user.SetFinalizers(nil)
	_, err = c.ApplyObject(ctx, namespace, user)
	require.NoError(t, err)

	cfg := req.Config.(*Config)
	delete(cfg.Applications, "nexo-auth-local")
	res, err := s.Install(ctx, req)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	_, err = getApp(t, c, "nexo-auth-local")
	assert.True(t, apierrors.IsNotFound(err), "removed from the config, removed from the cluster (despite its finalizer): %v", err)
	_, err = getApp(t, c, "nexo-be-local")
	assert.NoError(t, err)
	_, err = getApp(t, c, "made-by-hand")
	assert.NoError(t, err, "not lab's")

	res, err = s.Install(ctx, req)
	require.NoError(t, err)
	assert.False(t, res.Changed, "nothing left to change")
}

// Credentials come from a file or an environment variable and land in the repository
// Secret only; going back to a public repository removes them.
func TestRepositoryCredentials(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("file-token\n"), 0o600))
	s, req := installed(t, func(cfg *Config) {
		cfg.RepoURL, cfg.RepoUsername, cfg.RepoPasswordFile = "https://git.example/nexo.git", "bot", file
	})
	c := connect(t)
	secret := func() *corev1.Secret {
		s, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, repoSecret, metav1.GetOptions{})
		require.NoError(t, err)
		return s
	}
	got := secret()
	assert.Equal(t, "https://git.example/nexo.git", string(got.Data["url"]))
	assert.Equal(t, "bot", string(got.Data["username"]))
	assert.Equal(t, "file-token", string(got.Data["password"]))

	cfg := req.Config.(*Config)
	cfg.RepoPasswordFile, cfg.RepoPasswordEnv = "", "LAB_TEST_REPO_TOKEN"
	t.Setenv("LAB_TEST_REPO_TOKEN", "env-token")
	_, err := s.Install(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "env-token", string(secret().Data["password"]))

	os.Unsetenv("LAB_TEST_REPO_TOKEN")
	_, err = s.Install(ctx, req)
	require.ErrorContains(t, err, "LAB_TEST_REPO_TOKEN", "a missing secret is an error, before any change")
	assert.Equal(t, "env-token", string(secret().Data["password"]))

	cfg.RepoURL, cfg.RepoUsername, cfg.RepoPasswordEnv = "https://github.com/usuario/nexo", "", ""
	_, err = s.Install(ctx, req)
	require.NoError(t, err)
	got = secret()
	assert.NotContains(t, got.Data, "password")
	assert.NotContains(t, got.Data, "username")
}

// A backup holds the Applications, AppProjects, repository Secrets and ConfigMaps without
// server-set fields, in files only the user can read; a restore brings back what was lost.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, withApps)
	c := connect(t)
	// Argo CD would fill in the status; it must not travel.
	setStatus(t, c, "nexo-be-local", "Synced", "Healthy")

	dir := t.TempDir()
	req.Dir = dir
	res, err := s.Backup(ctx, req)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"configmaps.yaml", "repository-secrets.yaml", "appprojects.yaml", "applications.yaml"}, res.Files)
	for _, f := range res.Files {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		for _, field := range []string{"uid:", "resourceVersion:", "managedFields:", "creationTimestamp:", "status:"} {
			assert.NotContains(t, string(b), field, "%s keeps %s", f, field)
		}
	}
	cms, err := os.ReadFile(filepath.Join(dir, "configmaps.yaml"))
	require.NoError(t, err)
	for _, name := range []string{"argocd-cm", "argocd-rbac-cm", "argocd-cmd-params-cm"} {
		assert.Contains(t, string(cms), "name: "+name)
	}

	// Lose the Applications, the project and the repository, and a setting.
	for _, name := range []string{"nexo-be-local", "nexo-fe-local", "nexo-auth-local"} {
		app, err := getApp(t, c, name)
		require.NoError(t, err)
		require.NoError(t, deleteOrphaning(ctx, c, applicationsGVR, app))
	}
	require.NoError(t, c.Dynamic.Resource(appProjectsGVR).Namespace(namespace).Delete(ctx, "nexo", metav1.DeleteOptions{}))
	require.NoError(t, c.Kube.CoreV1().Secrets(namespace).Delete(ctx, repoSecret, metav1.DeleteOptions{}))
	_, err = c.Kube.CoreV1().ConfigMaps(namespace).Patch(ctx, "argocd-rbac-cm", types.MergePatchType,
		[]byte(`{"data":{"policy.default":"role:lost"}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	res, err = s.Restore(ctx, req)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	for _, name := range []string{"nexo-be-local", "nexo-fe-local", "nexo-auth-local"} {
		app, err := getApp(t, c, name)
		require.NoError(t, err, "%s restored", name)
		path, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
		assert.Equal(t, req.Config.(*Config).Applications[name], path)
		assert.Contains(t, app.GetFinalizers(), cascadeFinalizer)
		_, hasStatus := app.Object["status"]
		assert.False(t, hasStatus, "no status comes back from a backup")
	}
	_, err = c.Dynamic.Resource(appProjectsGVR).Namespace(namespace).Get(ctx, "nexo", metav1.GetOptions{})
	assert.NoError(t, err, "project restored")
	repo, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, repoSecret, metav1.GetOptions{})
	require.NoError(t, err, "repository restored")
	assert.Equal(t, "repository", repo.Labels[secretTypeLabel])
	rbac, err := c.Kube.CoreV1().ConfigMaps(namespace).Get(ctx, "argocd-rbac-cm", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "", rbac.Data["policy.default"], "setting restored")

	again, err := s.Install(ctx, req)
	require.NoError(t, err)
	assert.False(t, again.Changed, "the restored objects are what lab would make")
}

// Health names an Application that is out of sync. The status is written here as Argo CD's
// controller would write it; the request says the cluster is not simulated, since on a
// simulated one the application checks are skipped (no controller, no status).
func TestHealthNamesAnOutOfSyncApplication(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, withApps)
	c := connect(t)
	setStatus(t, c, "nexo-be-local", "Synced", "Healthy")
	setStatus(t, c, "nexo-fe-local", "OutOfSync", "Healthy")
	setStatus(t, c, "nexo-auth-local", "Synced", "Degraded")

	real := *req
	real.Cluster.Simulated = false
	h, err := s.Health(ctx, &real)
	require.NoError(t, err)
	for _, ch := range h.Checks {
		t.Logf("%s: %s: %s", ch.Name, ch.Status, ch.Message)
	}
	assert.Equal(t, sdk.Healthy, statusOf(h, "application nexo-be-local"))
	fe := checkOf(h, "application nexo-fe-local")
	assert.Equal(t, sdk.Degraded, fe.Status)
	assert.Contains(t, fe.Message, "nexo-fe-local")
	assert.Contains(t, fe.Message, "OutOfSync")
	auth := checkOf(h, "application nexo-auth-local")
	assert.Equal(t, sdk.Degraded, auth.Status)
	assert.Contains(t, auth.Message, "Degraded")

	// The same cluster seen as simulated: the application checks never claim health.
	h, err = s.Health(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, sdk.Skipped, statusOf(h, "application nexo-fe-local"))
	assert.Equal(t, sdk.Skipped, statusOf(h, "application nexo-be-local"))
}

// setStatus writes an Application's status as Argo CD's controller does: with the object,
// since the Application CRD has no status subresource (the status subresource is tried
// when the write did not stick, for a CRD that has one).
func setStatus(t *testing.T, c *kube.Client, name, sync, health string) {
	ctx := context.Background()
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{
		"sync":   map[string]any{"status": sync, "revision": "0123456789abcdef"},
		"health": map[string]any{"status": health},
	}})
	ri := c.Dynamic.Resource(applicationsGVR).Namespace(namespace)
	app, err := ri.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	if _, ok := app.Object["status"]; !ok {
		_, err = ri.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
		require.NoError(t, err)
	}
}

// standIn plays the part of Argo CD's application controller for deletions, which kwok
// cannot run: an Application deleted with the cascade finalizer has its resources (the
// Deployments carrying its tracking label) deleted, then loses the finalizer. With it, a
// plugin that deleted Applications without taking the finalizer off first would see the
// workloads go.
func standIn(t *testing.T, c *kube.Client, destination string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		ri := c.Dynamic.Resource(applicationsGVR).Namespace(namespace)
		for ctx.Err() == nil {
			l, err := ri.List(ctx, metav1.ListOptions{})
			if err == nil {
				for _, app := range l.Items {
					if app.GetDeletionTimestamp() == nil {
						continue
					}
					var keep []string
					cascade := false
					for _, f := range app.GetFinalizers() {
						if f == cascadeFinalizer {
							cascade = true
						} else {
							keep = append(keep, f)
						}
					}
					if !cascade {
						continue
					}
					_ = c.Kube.AppsV1().Deployments(destination).DeleteCollection(ctx, metav1.DeleteOptions{},
						metav1.ListOptions{LabelSelector: "argocd.argoproj.io/instance=" + app.GetName()})
					patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": keep}})
					_, _ = ri.Patch(ctx, app.GetName(), types.MergePatchType, patch, metav1.PatchOptions{})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

// appWorkload makes the Deployment an Application deployed: in its destination namespace,
// with Argo CD's tracking label.
func appWorkload(t *testing.T, c *kube.Client, ns, app string) {
	ctx := context.Background()
	_, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	t.Cleanup(func() { _ = c.Kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	labels := map[string]string{"app": app, "argocd.argoproj.io/instance": app}
	one := int32(1)
	_, err = c.Kube.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: app, Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

func uninstall(t *testing.T, s *Stack, req *sdk.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := s.Uninstall(ctx, req)
	require.NoError(t, err)
}

// Without cascade, uninstalling leaves what the Applications deployed, although each
// Application carries Argo CD's cascade finalizer and a controller honours it.
func TestUninstallWithoutCascadeLeavesTheWorkloads(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, func(cfg *Config) { withApps(cfg); cfg.DestinationNamespace = "nexo-orphans" })
	c := connect(t)
	appWorkload(t, c, "nexo-orphans", "nexo-be-local")
	app, err := getApp(t, c, "nexo-be-local")
	require.NoError(t, err)
	require.Contains(t, app.GetFinalizers(), cascadeFinalizer)
	standIn(t, c, "nexo-orphans")

	uninstall(t, s, req)
	_, err = c.Kube.AppsV1().Deployments("nexo-orphans").Get(ctx, "nexo-be-local", metav1.GetOptions{})
	assert.NoError(t, err, "the application's workload is still there")
	_, err = c.Kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "namespace %s deleted: %v", namespace, err)
	_, err = c.Dynamic.Resource(crdsGVR).Get(ctx, "applications.argoproj.io", metav1.GetOptions{})
	assert.NoError(t, err, "the CRDs stay")

	h, err := s.Health(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, sdk.Unhealthy, h.Status())
}

// With cascade, Argo CD (here its stand-in) deletes what the Applications deployed before
// the release goes. The request says the cluster is not simulated: on a simulated one no
// controller would ever remove the finalizers, and the plugin leaves the workloads.
func TestUninstallWithCascadeDeletesTheWorkloads(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, func(cfg *Config) { withApps(cfg); cfg.DestinationNamespace = "nexo-cascade" })
	c := connect(t)
	appWorkload(t, c, "nexo-cascade", "nexo-be-local")
	standIn(t, c, "nexo-cascade")

	real := *req
	real.Cluster.Simulated, real.Cascade = false, true
	uninstall(t, s, &real)
	_, err := c.Kube.AppsV1().Deployments("nexo-cascade").Get(ctx, "nexo-be-local", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the application's workload was deleted by the cascade: %v", err)
}

// On a simulated cluster a cascade cannot happen: the plugin says so and does not hang.
func TestUninstallWithCascadeOnKwokDoesNotWaitForever(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, func(cfg *Config) { withApps(cfg); cfg.DestinationNamespace = "nexo-kwok" })
	c := connect(t)
	appWorkload(t, c, "nexo-kwok", "nexo-be-local")
	var warned []string
	req.OnEvent = func(e sdk.Event) {
		if e.Level == "warn" {
			warned = append(warned, e.Message)
		}
	}
	req.Cascade = true
	uninstall(t, s, req)
	assert.NotEmpty(t, warned)
	assert.True(t, strings.Contains(strings.Join(warned, "\n"), "simulated"))
	_, err := c.Kube.AppsV1().Deployments("nexo-kwok").Get(ctx, "nexo-be-local", metav1.GetOptions{})
	assert.NoError(t, err)
}

// With PurgeData the CRDs go too, once no Argo CD object is left.
func TestUninstallPurgeDataDeletesTheCRDs(t *testing.T) {
	ctx := context.Background()
	s, req := installed(t, nil)
	c := connect(t)
	req.PurgeData = true
	uninstall(t, s, req)
	for _, name := range []string{"applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"} {
		require.Eventually(t, func() bool {
			_, err := c.Dynamic.Resource(crdsGVR).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, 30*time.Second, 200*time.Millisecond, "CRD %s deleted", name)
	}
}
