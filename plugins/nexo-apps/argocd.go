package nexoapps

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
)

// nexo-apps owns the Argo CD Applications of the Nexo applications: one per application
// and environment, in Argo CD's namespace, from the repository's apps/<app> paths.
const (
	argocdNamespace = "argocd"
	argocdProject   = "nexo"
	inCluster       = "https://kubernetes.default.svc"
)

var applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// detectDelivery decides how the applications are delivered: by Argo CD when asked, or
// with auto when Argo CD's Application kind is served and its namespace exists.
func detectDelivery(ctx context.Context, s *session) error {
	switch s.Config.Delivery {
	case "helm":
		s.Values["argocd"] = false
		return nil
	case "argocd":
		s.Values["argocd"] = true
		return nil
	}
	present := false
	if s.Kube != nil {
		var err error
		if present, err = argoCDPresent(ctx, s.Kube); err != nil {
			return err
		}
	}
	s.Values["argocd"] = present
	return nil
}

func argoCDPresent(ctx context.Context, c *kube.Client) (bool, error) {
	_, err := c.Kube.Discovery().ServerResourcesForGroupVersion("argoproj.io/v1alpha1")
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for Argo CD: %w", err)
	}
	served := false
	if list, _ := c.Kube.Discovery().ServerResourcesForGroupVersion("argoproj.io/v1alpha1"); list != nil {
		for _, r := range list.APIResources {
			served = served || r.Name == "applications"
		}
	}
	if !served {
		return false, nil
	}
	_, err = c.Kube.CoreV1().Namespaces().Get(ctx, argocdNamespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func byArgoCD(s *session) bool { v, _ := s.Values["argocd"].(bool); return v }

// app is one Application: the chart's folder in the repository, where it goes, and the
// environment's values file there.
type app struct {
	Name, Chart, Namespace, ValuesFile string
}

// applications are the Applications of the config: nexo-fe and nexo-be per environment,
// Keycloak once (nexo-auth-local, into the shared namespace).
func applications(cfg *Config) []app {
	out := []app{{Name: "nexo-auth-local", Chart: "nexo-auth", Namespace: dataNamespace, ValuesFile: "values-local.yaml"}}
	for _, e := range environments(cfg) {
		for _, a := range []string{"nexo-fe", "nexo-be"} {
			out = append(out, app{Name: a + "-" + e.Slot, Chart: a, Namespace: e.Namespace, ValuesFile: "values-" + e.Slot + ".yaml"})
		}
	}
	return out
}

// repoURL is the config's repository, or the one the argocd stack registered.
func repoURL(ctx context.Context, s *session) (string, error) {
	if s.Config.RepoURL != "" {
		return s.Config.RepoURL, nil
	}
	list, err := s.Kube.Kube.CoreV1().Secrets(argocdNamespace).List(ctx, metav1.ListOptions{LabelSelector: "argocd.argoproj.io/secret-type=repository"})
	if err != nil {
		return "", fmt.Errorf("Argo CD's repositories: %w", err)
	}
	for _, sec := range list.Items {
		if u := string(sec.Data["url"]); u != "" {
			return u, nil
		}
	}
	return "", fmt.Errorf("no repository for the Applications: set repo_url, or give the argocd stack its repo_url")
}

func applicationObject(a app, repo, revision string) *unstructured.Unstructured {
	return object("argoproj.io/v1alpha1", "Application", argocdNamespace, a.Name, map[string]any{"spec": map[string]any{
		"project": argocdProject,
		"source": map[string]any{
			"repoURL": repo, "targetRevision": revision, "path": "apps/" + a.Chart,
			"helm": map[string]any{"valueFiles": []any{a.ValuesFile}},
		},
		"destination": map[string]any{"server": inCluster, "namespace": a.Namespace},
		"syncPolicy":  map[string]any{"automated": map[string]any{"prune": true, "selfHeal": true}},
	}})
}

// applyApplications converges the Applications and deletes those of this stack the
// config no longer has.
func applyApplications(ctx context.Context, s *session) (bool, error) {
	present, err := argoCDPresent(ctx, s.Kube)
	if err != nil {
		return false, err
	}
	if !present {
		return false, fmt.Errorf("delivery = \"argocd\" but Argo CD is not there (no applications.argoproj.io served or no %s namespace): enable the argocd stack or set delivery = \"auto\"", argocdNamespace)
	}
	repo, err := repoURL(ctx, s)
	if err != nil {
		return false, err
	}
	changed := false
	want := map[string]bool{}
	for _, a := range applications(s.Config) {
		want[a.Name] = true
		ch, err := s.Apply(ctx, applicationObject(a, repo, s.Config.Revision))
		if err != nil {
			return changed, err
		}
		if ch {
			s.Req.Emit("gitops", "Application %s: apps/%s with %s into %s", a.Name, a.Chart, a.ValuesFile, a.Namespace)
		}
		changed = changed || ch
	}
	ours, err := ownApplications(ctx, s)
	if err != nil {
		return changed, err
	}
	for _, name := range ours {
		if !want[name] {
			if _, err := s.Kube.Delete(ctx, applicationsGVR, argocdNamespace, name); err != nil {
				return changed, err
			}
			s.Req.Emit("gitops", "Application %s removed", name)
			changed = true
		}
	}
	return changed, nil
}

func ownApplications(ctx context.Context, s *session) ([]string, error) {
	list, err := s.Kube.Dynamic.Resource(applicationsGVR).Namespace(argocdNamespace).
		List(ctx, metav1.ListOptions{LabelSelector: kube.StackLabel + "=" + s.Stack()})
	if kube.IgnoreNotFound(err) != nil {
		return nil, err
	}
	if list == nil {
		return nil, nil
	}
	var out []string
	for _, o := range list.Items {
		out = append(out, o.GetName())
	}
	return out, nil
}

// deleteApplications deletes an environment's Applications.
func deleteApplications(ctx context.Context, s *session, slot string) error {
	for _, a := range []string{"nexo-fe", "nexo-be"} {
		if _, err := s.Kube.Delete(ctx, applicationsGVR, argocdNamespace, a+"-"+slot); err != nil {
			return err
		}
	}
	return nil
}

// switchDelivery removes what the other way of delivery left: the Helm releases of the
// applications when Argo CD takes over, or this stack's Applications when Helm does.
func switchDelivery(ctx context.Context, s *session) error {
	if !byArgoCD(s) {
		ours, err := ownApplications(ctx, s)
		if err != nil {
			return err
		}
		for _, name := range ours {
			if _, err := s.Kube.Delete(ctx, applicationsGVR, argocdNamespace, name); err != nil {
				return err
			}
			s.Req.Emit("gitops", "Application %s removed: delivery is Helm", name)
		}
		return nil
	}
	for _, r := range appReleases(s) {
		removed, err := s.Helm.Uninstall(ctx, r.Name, r.Namespace)
		if err != nil {
			return err
		}
		if removed {
			s.Req.Emit("gitops", "Helm release %s removed: Argo CD delivers it now", r.Name)
		}
	}
	return nil
}
