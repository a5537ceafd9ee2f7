package argocd

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// checks are the stack's own checks, after the components' rollouts.
func checks(ctx context.Context, s *session, h *sdk.Health) {
	c := s.Kube
	checkIngress(ctx, c, h, s.Host("argocd"))
	checkAdmin(ctx, c, h)
	if s.Simulated() {
		h.SkipSimulated("server probe", "")
	} else if pod, _, err := c.ProbePod(ctx, namespace, serverSelector, "8080", "/healthz"); err != nil {
		h.Add("server probe", sdk.Unhealthy, "%v", err)
	} else {
		h.Add("server probe", sdk.Healthy, "%s answered on :8080/healthz", pod)
	}
	checkRepository(ctx, c, h, s.Config)
	checkProject(ctx, c, h, s.Config)
	for _, name := range appNames(s.Config) {
		checkApplication(ctx, c, h, name, s.Simulated())
	}
}

// serverSelector finds the server's pods and Ingress by the upstream chart's labels.
const serverSelector = "app.kubernetes.io/name=argocd-server,app.kubernetes.io/instance=" + releaseName

// checkIngress looks for the server's Ingress rule for argocd.<domain>.
func checkIngress(ctx context.Context, c *kube.Client, h *sdk.Health, want string) {
	l, err := c.Kube.NetworkingV1().Ingresses(namespace).List(ctx, metav1.ListOptions{LabelSelector: serverSelector})
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
		h.SkipSimulated(check, fmt.Sprintf("Application %s exists, but no controller gives it a sync or health status", name))
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
