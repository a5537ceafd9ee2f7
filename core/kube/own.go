package kube

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Owned returns the labels of an object a stack makes outside its charts: lab manages it,
// and StackLabel names the stack, which is how Uninstall finds it again.
func Owned(stack string, extra map[string]string) map[string]string {
	out := map[string]string{StackLabel: stack}
	for k, v := range ManagedBy {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// IgnoreNotFound is nil for an object, or a kind, that does not exist.
func IgnoreNotFound(err error) error {
	if err == nil || apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return nil
	}
	return err
}

// Delete deletes one object; it reports whether there was one to delete.
func (c *Client) Delete(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (bool, error) {
	err := c.Dynamic.Resource(gvr).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{})
	if err == nil {
		return true, nil
	}
	if IgnoreNotFound(err) == nil {
		return false, nil
	}
	return false, fmt.Errorf("delete %s %s: %w", gvr.Resource, join(ns, name), err)
}

// dataKinds are what PurgeData alone removes: volumes, and Secrets (generated passwords a
// database keeps using).
var dataKinds = map[string]bool{"persistentvolumeclaims": true, "secrets": true}

// DeleteOwned deletes every object, of any kind and in any namespace, that carries a
// stack's StackLabel, except its volumes and Secrets unless withData. It reports how many
// it deleted.
func (c *Client) DeleteOwned(ctx context.Context, stack string, withData bool) (int, error) {
	lists, err := c.Kube.Discovery().ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return 0, fmt.Errorf("discovery: %w", err)
	}
	sel := metav1.ListOptions{LabelSelector: StackLabel + "=" + stack}
	n := 0
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !can(r.Verbs, "list") || !can(r.Verbs, "delete") || r.Name == "events" || (dataKinds[r.Name] && !withData) {
				continue
			}
			gvr := gv.WithResource(r.Name)
			items, err := c.Dynamic.Resource(gvr).List(ctx, sel)
			if IgnoreNotFound(err) != nil {
				return n, fmt.Errorf("list %s: %w", r.Name, err)
			}
			if err != nil {
				continue
			}
			for _, o := range items.Items {
				ok, err := c.Delete(ctx, gvr, o.GetNamespace(), o.GetName())
				if err != nil {
					return n, err
				}
				if ok {
					n++
				}
			}
		}
	}
	return n, nil
}

// DeleteCRDs deletes the CustomResourceDefinitions of API groups, and with them every
// object of theirs, except those another Helm release installed (a group can be shared:
// Argo Rollouts' CRDs are argoproj.io too). releases are the stack's own. It reports how
// many it deleted.
func (c *Client) DeleteCRDs(ctx context.Context, groups, releases []string) (int, error) {
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	list, err := c.Dynamic.Resource(crds).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, g := range groups {
		want[g] = true
	}
	n := 0
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		owner := crd.GetAnnotations()["meta.helm.sh/release-name"]
		if !want[group] || (owner != "" && !slices.Contains(releases, owner)) {
			continue
		}
		ok, err := c.Delete(ctx, crds, "", crd.GetName())
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

func can(verbs metav1.Verbs, verb string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}

func join(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
