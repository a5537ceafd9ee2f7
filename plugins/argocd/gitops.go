package argocd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/nexolab/lab/core/kube"
)

var (
	applicationsGVR    = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	appProjectsGVR     = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}
	applicationSetsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applicationsets"}
)

const (
	// repoSecret is the Argo CD repository Secret of the lab's repository.
	repoSecret = "lab-repository"
	// secretTypeLabel tells Argo CD what a Secret declares.
	secretTypeLabel = "argocd.argoproj.io/secret-type"
	// cascadeFinalizer makes Argo CD delete an Application's resources before the Application.
	cascadeFinalizer = "resources-finalizer.argocd.argoproj.io"
	inCluster        = "https://kubernetes.default.svc"
)

func object(apiVersion, kind, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": namespace},
	}}
}

// repositoryObject is the lab's repository as an Argo CD repository Secret.
func repositoryObject(cfg *Config, password string) *unstructured.Unstructured {
	o := object("v1", "Secret", repoSecret)
	o.SetLabels(map[string]string{secretTypeLabel: "repository"})
	data := map[string]string{"type": "git", "name": "lab", "url": cfg.RepoURL}
	if password != "" {
		data["username"], data["password"] = cfg.RepoUsername, password
	}
	enc := map[string]any{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	o.Object["type"], o.Object["data"] = "Opaque", enc
	return o
}

// projectObject limits the applications to the lab's repository and namespaces.
func projectObject(cfg *Config) *unstructured.Unstructured {
	o := object("argoproj.io/v1alpha1", "AppProject", cfg.Project)
	dests := []any{map[string]any{"server": inCluster, "namespace": cfg.DestinationNamespace}}
	for _, ns := range cfg.ProjectNamespaces {
		dests = append(dests, map[string]any{"server": inCluster, "namespace": ns})
	}
	o.Object["spec"] = map[string]any{
		"description":  "Applications of the lab, from " + cfg.RepoURL,
		"sourceRepos":  []any{cfg.RepoURL},
		"destinations": dests,
		// CreateNamespace=true needs the Namespace kind.
		"clusterResourceWhitelist":   []any{map[string]any{"group": "", "kind": "Namespace"}},
		"namespaceResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
	}
	return o
}

// applicationObject is one auto-synced Application. The cascade finalizer makes deleting
// it in Argo CD delete its resources, as Argo CD users expect; lab removes the finalizer
// first whenever it deletes an Application without being asked to cascade.
func applicationObject(cfg *Config, name string) *unstructured.Unstructured {
	o := object("argoproj.io/v1alpha1", "Application", name)
	o.SetFinalizers([]string{cascadeFinalizer})
	o.Object["spec"] = map[string]any{
		"project": cfg.Project,
		"source": map[string]any{
			"repoURL":        cfg.RepoURL,
			"targetRevision": cfg.TargetRevision,
			"path":           cfg.Applications[name],
		},
		"destination": map[string]any{"server": inCluster, "namespace": cfg.DestinationNamespace},
		"syncPolicy": map[string]any{
			"automated":   map[string]any{"prune": true, "selfHeal": true},
			"syncOptions": []any{"CreateNamespace=true"},
		},
	}
	return o
}

// applyGitOps converges the repository Secret, the AppProject and the Applications, then
// removes the Applications (and a renamed AppProject) lab made that the config no longer has.
func applyGitOps(ctx context.Context, s *session) (bool, error) {
	cfg := s.Config
	password, _ := s.Values[passwordValue].(string)
	objs := []*unstructured.Unstructured{repositoryObject(cfg, password), projectObject(cfg)}
	for _, name := range appNames(cfg) {
		objs = append(objs, applicationObject(cfg, name))
	}
	changed := false
	for _, o := range objs {
		ch, err := s.Apply(ctx, o)
		if err != nil {
			return changed, err
		}
		if ch {
			s.Req.Emit("gitops", "%s %s applied", o.GetKind(), o.GetName())
		}
		changed = changed || ch
	}
	removed, err := prune(ctx, s, applicationsGVR, cfg.Applications)
	if err != nil {
		return changed, err
	}
	removedProjects, err := prune(ctx, s, appProjectsGVR, map[string]string{cfg.Project: ""})
	if err != nil {
		return changed, err
	}
	return changed || removed || removedProjects, nil
}

// prune deletes the objects of a resource that lab made and keep does not name. An
// Application loses its cascade finalizer first: its workloads stay where they are.
func prune(ctx context.Context, s *session, gvr schema.GroupVersionResource, keep map[string]string) (bool, error) {
	items, err := list(ctx, s.Kube, gvr, labels.SelectorFromSet(kube.Owned(s.Stack(), nil)).String())
	if err != nil {
		return false, err
	}
	removed := false
	for i := range items {
		o := &items[i]
		if _, ok := keep[o.GetName()]; ok || o.GetDeletionTimestamp() != nil {
			continue
		}
		if err := deleteOrphaning(ctx, s.Kube, gvr, o); err != nil {
			return removed, err
		}
		s.Req.Emit("gitops", "%s %s removed (no longer in lab.hcl; its resources are left in place)", o.GetKind(), o.GetName())
		removed = true
	}
	return removed, nil
}

// argoFinalizer tells Argo CD's finalizers (resources-finalizer.argocd.argoproj.io and its
// /foreground and /background forms, the pre- and post-delete hook finalizers).
func argoFinalizer(f string) bool {
	return strings.Contains(f, "argocd.argoproj.io")
}

// stripFinalizers removes Argo CD's finalizers from an object, keeping any others. It reads
// the object afresh and retries on a conflict: on a real cluster Argo CD writes the status
// of an Application all the time.
func stripFinalizers(ctx context.Context, c *kube.Client, gvr schema.GroupVersionResource, o *unstructured.Unstructured) error {
	ri := c.Dynamic.Resource(gvr).Namespace(o.GetNamespace())
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		keep := []string{}
		for _, f := range cur.GetFinalizers() {
			if !argoFinalizer(f) {
				keep = append(keep, f)
			}
		}
		if len(keep) == len(cur.GetFinalizers()) {
			return nil
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
			"finalizers": keep, "resourceVersion": cur.GetResourceVersion()}})
		if err != nil {
			return err
		}
		_, err = ri.Patch(ctx, o.GetName(), types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err := kube.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("remove finalizers of %s %s: %w", o.GetKind(), o.GetName(), err)
	}
	return nil
}

// deleteOrphaning deletes an object without letting Argo CD cascade: finalizers first.
// An ApplicationSet's Applications are orphaned, not collected: the garbage collector would
// delete them while they may still carry the cascade finalizer.
func deleteOrphaning(ctx context.Context, c *kube.Client, gvr schema.GroupVersionResource, o *unstructured.Unstructured) error {
	if err := stripFinalizers(ctx, c, gvr, o); err != nil {
		return err
	}
	if gvr != applicationSetsGVR {
		_, err := c.Delete(ctx, gvr, o.GetNamespace(), o.GetName())
		return err
	}
	orphan := metav1.DeletePropagationOrphan
	err := c.Dynamic.Resource(gvr).Namespace(o.GetNamespace()).Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &orphan})
	if err := kube.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("delete %s %s: %w", o.GetKind(), o.GetName(), err)
	}
	return nil
}

// list returns the objects of a resource in Argo CD's namespace; a resource whose CRD is
// not installed has none.
func list(ctx context.Context, c *kube.Client, gvr schema.GroupVersionResource, selector string) ([]unstructured.Unstructured, error) {
	l, err := c.Dynamic.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err := kube.IgnoreNotFound(err); err != nil {
		return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
	}
	if err != nil {
		return nil, nil
	}
	return l.Items, nil
}
