package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// workloadCheck is one Argo CD component found by the name label the upstream chart gives
// it (app.kubernetes.io/name: argocd-<component>) and the release's instance label.
type workloadCheck struct {
	check string
	name  string   // app.kubernetes.io/name
	kinds []string // the kinds it may be, in order
}

var workloadChecks = []workloadCheck{
	{"server", "argocd-server", []string{"Deployment"}},
	{"repo-server", "argocd-repo-server", []string{"Deployment"}},
	// A StatefulSet, or a Deployment with controller.dynamicClusterDistribution.
	{"application controller", "argocd-application-controller", []string{"StatefulSet", "Deployment"}},
	{"applicationset controller", "argocd-applicationset-controller", []string{"Deployment"}},
	{"notifications controller", "argocd-notifications-controller", []string{"Deployment"}},
	{"redis", "argocd-redis", []string{"Deployment"}},
}

const skippedOnKwok = "no Argo CD controller runs on a simulated (kwok) cluster"

func (s *Stack) Health(ctx context.Context, req *sdk.Request) (*sdk.Health, error) {
	cfg, err := config(req)
	if err != nil {
		return nil, err
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	h := &sdk.Health{Endpoints: []sdk.Endpoint{{Name: "argocd", URL: endpoint(req)}}}
	for _, w := range workloadChecks {
		checkWorkload(ctx, c, h, w)
	}
	checkIngress(ctx, c, h, host(req))
	checkAdmin(ctx, c, h)
	if req.Cluster.Simulated {
		h.Add("server probe", sdk.Skipped, "%s", "no container runs on a simulated (kwok) cluster")
	} else {
		probe(ctx, c, h)
	}
	checkRepository(ctx, c, h, cfg)
	checkProject(ctx, c, h, cfg)
	for _, name := range cfg.appNames() {
		checkApplication(ctx, c, h, name, req.Cluster.Simulated)
	}
	return h, nil
}

func checkWorkload(ctx context.Context, c *kube.Client, h *sdk.Health, w workloadCheck) {
	sel := "app.kubernetes.io/name=" + w.name + ",app.kubernetes.io/instance=" + releaseName
	for _, kind := range w.kinds {
		name, err := findWorkload(ctx, c, kind, sel)
		if err != nil {
			h.Add(w.check, sdk.Unhealthy, "%v", err)
			return
		}
		if name == "" {
			continue
		}
		wl, err := c.Workload(ctx, kind, namespace, name)
		switch {
		case err != nil:
			h.Add(w.check, sdk.Unhealthy, "%v", err)
		case !wl.Done:
			h.Add(w.check, sdk.Unhealthy, "not ready: %s", wl)
		default:
			h.Add(w.check, sdk.Healthy, "%s", wl)
		}
		return
	}
	h.Add(w.check, sdk.Unhealthy, "no %s labelled app.kubernetes.io/name=%s in %s", strings.Join(w.kinds, " or "), w.name, namespace)
}

// findWorkload returns the name of the first workload of a kind that has the labels.
func findWorkload(ctx context.Context, c *kube.Client, kind, selector string) (string, error) {
	opts := metav1.ListOptions{LabelSelector: selector}
	apps := c.Kube.AppsV1()
	switch kind {
	case "Deployment":
		l, err := apps.Deployments(namespace).List(ctx, opts)
		if err != nil || len(l.Items) == 0 {
			return "", err
		}
		return l.Items[0].Name, nil
	case "StatefulSet":
		l, err := apps.StatefulSets(namespace).List(ctx, opts)
		if err != nil || len(l.Items) == 0 {
			return "", err
		}
		return l.Items[0].Name, nil
	}
	return "", fmt.Errorf("not a workload kind: %s", kind)
}

// checkIngress looks for the server's Ingress rule for argocd.<domain>.
func checkIngress(ctx context.Context, c *kube.Client, h *sdk.Health, want string) {
	l, err := c.Kube.NetworkingV1().Ingresses(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=argocd-server,app.kubernetes.io/instance=" + releaseName})
	if err != nil {
		h.Add("ingress", sdk.Unhealthy, "%v", err)
		return
	}
	for _, ing := range l.Items {
		for _, r := range ing.Spec.Rules {
			if r.Host == want {
				h.Add("ingress", sdk.Healthy, "Ingress %s routes %s to the server", ing.Name, want)
				return
			}
		}
	}
	h.Add("ingress", sdk.Unhealthy, "no Ingress of the server for %s", want)
}

// checkAdmin compares the admin password Argo CD has (argocd-secret) with the one lab keeps,
// so that `lab credentials` shows a password that works.
func checkAdmin(ctx context.Context, c *kube.Client, h *sdk.Health) {
	secrets := c.Kube.CoreV1().Secrets(namespace)
	mine, err := secrets.Get(ctx, adminSecret, metav1.GetOptions{})
	if err != nil {
		h.Add("admin password", sdk.Unhealthy, "secret %s: %v", adminSecret, err)
		return
	}
	argo, err := secrets.Get(ctx, "argocd-secret", metav1.GetOptions{})
	if err != nil {
		h.Add("admin password", sdk.Unhealthy, "secret argocd-secret: %v", err)
		return
	}
	hash := argo.Data["admin.password"]
	switch {
	case len(hash) == 0:
		h.Add("admin password", sdk.Unhealthy, "argocd-secret has no admin password")
	case bytes.Equal(hash, mine.Data[hashKey]):
		h.Add("admin password", sdk.Healthy, "the admin password of `lab credentials` is Argo CD's")
	case bcrypt.CompareHashAndPassword(hash, mine.Data[kube.PasswordKey]) == nil:
		h.Add("admin password", sdk.Healthy, "the admin password of `lab credentials` is Argo CD's")
	default:
		h.Add("admin password", sdk.Degraded, "the admin password was changed in Argo CD: `lab credentials` shows an old one until the next apply")
	}
}

// probe asks one server pod for /healthz through the API server's proxy.
func probe(ctx context.Context, c *kube.Client, h *sdk.Health) {
	pods, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=argocd-server,app.kubernetes.io/instance=" + releaseName})
	if err != nil {
		h.Add("server probe", sdk.Unhealthy, "%v", err)
		return
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		if _, err := c.Kube.CoreV1().Pods(namespace).ProxyGet("http", p.Name, "8080", "/healthz", nil).DoRaw(ctx); err != nil {
			h.Add("server probe", sdk.Unhealthy, "GET %s:8080/healthz: %v", p.Name, err)
			return
		}
		h.Add("server probe", sdk.Healthy, "%s answered on :8080/healthz", p.Name)
		return
	}
	h.Add("server probe", sdk.Unhealthy, "no running argocd-server pod to probe")
}

func checkRepository(ctx context.Context, c *kube.Client, h *sdk.Health, cfg *Config) {
	s, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, repoSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		h.Add("repository", sdk.Unhealthy, "repository Secret %s is missing", repoSecret)
	case err != nil:
		h.Add("repository", sdk.Unhealthy, "%v", err)
	case string(s.Data["url"]) != cfg.RepoURL:
		h.Add("repository", sdk.Degraded, "repository Secret points at %s, not %s", s.Data["url"], cfg.RepoURL)
	default:
		h.Add("repository", sdk.Healthy, "%s is declared to Argo CD", cfg.RepoURL)
	}
}

func checkProject(ctx context.Context, c *kube.Client, h *sdk.Health, cfg *Config) {
	name := "project " + cfg.Project
	_, err := c.Dynamic.Resource(appProjectsGVR).Namespace(namespace).Get(ctx, cfg.Project, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		h.Add(name, sdk.Unhealthy, "AppProject %s is missing", cfg.Project)
	case err != nil:
		h.Add(name, sdk.Unhealthy, "%v", err)
	default:
		h.Add(name, sdk.Healthy, "AppProject %s exists", cfg.Project)
	}
}

// checkApplication reports an Application's sync and health status as Argo CD's application
// controller sets them. On a simulated cluster no controller runs and no status ever comes:
// the check says so (skipped) once the Application exists, and is never healthy.
func checkApplication(ctx context.Context, c *kube.Client, h *sdk.Health, name string, simulated bool) {
	check := "application " + name
	app, err := c.Dynamic.Resource(applicationsGVR).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		h.Add(check, sdk.Unhealthy, "Application %s is missing", name)
		return
	case err != nil:
		h.Add(check, sdk.Unhealthy, "%v", err)
		return
	case simulated:
		h.Add(check, sdk.Skipped, "Application %s exists; %s, so it gets no sync or health status", name, skippedOnKwok)
		return
	}
	st, msg := appStatus(app)
	h.Add(check, st, "%s", msg)
}

// appStatus turns an Application's status into a check: Synced and Healthy (or Suspended)
// is healthy; anything else is degraded, with the reasons Argo CD gives.
func appStatus(app *unstructured.Unstructured) (sdk.Status, string) {
	name := app.GetName()
	sync, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status")
	health, _, _ := unstructured.NestedString(app.Object, "status", "health", "status")
	rev, _, _ := unstructured.NestedString(app.Object, "status", "sync", "revision")
	phase, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase")
	opMsg, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "message")
	if sync == "" && health == "" {
		return sdk.Degraded, fmt.Sprintf("Application %s has no status yet: is the application controller running?", name)
	}
	var reasons []string
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, cond := range conds {
		m, _ := cond.(map[string]any)
		t, _ := m["type"].(string)
		if strings.HasSuffix(t, "Error") || strings.HasSuffix(t, "Warning") {
			msg, _ := m["message"].(string)
			reasons = append(reasons, fmt.Sprintf("%s: %s", t, msg))
		}
	}
	if phase == "Failed" || phase == "Error" {
		reasons = append(reasons, fmt.Sprintf("last sync %s: %s", strings.ToLower(phase), opMsg))
	}
	state := fmt.Sprintf("Application %s is %s and %s", name, or(sync, "Unknown"), or(health, "Unknown"))
	if rev != "" {
		state += " at " + short(rev)
	}
	if len(reasons) > 0 {
		state += " (" + strings.Join(reasons, "; ") + ")"
	}
	if sync == "Synced" && (health == "Healthy" || health == "Suspended") && len(reasons) == 0 {
		return sdk.Healthy, state
	}
	return sdk.Degraded, state
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func short(rev string) string {
	if len(rev) > 8 {
		return rev[:8]
	}
	return rev
}
