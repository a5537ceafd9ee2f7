package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// CascadeTimeout bounds the wait for Argo CD to delete the applications' resources.
var CascadeTimeout = 5 * time.Minute

var crdsGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Uninstall removes Argo CD. Without req.Cascade the applications' workloads stay: every
// Application and ApplicationSet loses Argo CD's finalizers before it is deleted, so no
// controller deletes what they deployed. With req.Cascade, Argo CD itself (still running)
// deletes each Application's resources first. Then the release goes and the namespace with
// it. The CRDs stay (crds.keep), unless req.PurgeData and no Argo CD object is left.
func (s *Stack) Uninstall(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	changed := false
	cascade := req.Cascade
	if cascade && req.Cluster.Simulated {
		req.Warn("applications", "%s to delete the applications' resources: they are left in place", skippedOnKwok)
		cascade = false
	}
	var n int
	if cascade {
		n, err = deleteCascading(ctx, c, req)
	} else {
		n, err = deleteAllOrphaning(ctx, c, req, applicationSetsGVR, applicationsGVR)
	}
	if err != nil {
		return nil, err
	}
	changed = n > 0
	removed, err := c.Uninstall(ctx, releaseName, namespace)
	if err != nil {
		return nil, err
	}
	if removed {
		req.Emit("chart", "release %s removed", releaseName)
	}
	// With the controllers gone, nothing would ever remove a finalizer: take them off
	// everything left (projects, and anything made while the release went away).
	m, err := deleteAllOrphaning(ctx, c, req, applicationSetsGVR, applicationsGVR, appProjectsGVR)
	if err != nil {
		return nil, err
	}
	req.Emit("namespace", "deleting namespace %s", namespace)
	if err := c.DeleteNamespace(ctx, namespace); err != nil {
		return nil, err
	}
	if req.PurgeData {
		if err := purgeCRDs(ctx, c, req); err != nil {
			return nil, err
		}
	}
	return &sdk.Result{Changed: changed || removed || m > 0, Summary: "Argo CD removed"}, nil
}

// deleteAllOrphaning deletes every object of the resources in the namespace, Argo CD's
// finalizers first, and returns how many it deleted.
func deleteAllOrphaning(ctx context.Context, c *kube.Client, req *sdk.Request, gvrs ...schema.GroupVersionResource) (int, error) {
	n := 0
	for _, gvr := range gvrs {
		items, err := list(ctx, c, gvr, metav1.ListOptions{})
		if err != nil {
			return n, err
		}
		for i := range items {
			if err := deleteOrphaning(ctx, c, gvr, &items[i]); err != nil {
				return n, err
			}
			n++
		}
		if gvr == applicationsGVR && len(items) > 0 {
			req.Emit("applications", "deleted %d Applications without cascade: their resources are left in place", len(items))
		}
	}
	return n, nil
}

// deleteCascading lets the running Argo CD delete what the applications deployed: the
// ApplicationSets go first (so none regenerates an Application), then every Application
// is deleted with the cascade finalizer, and the wait lasts until Argo CD has removed them.
func deleteCascading(ctx context.Context, c *kube.Client, req *sdk.Request) (int, error) {
	sets, err := list(ctx, c, applicationSetsGVR, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	for _, set := range sets {
		if err := deleteObject(ctx, c, applicationSetsGVR, set.GetName()); err != nil {
			return 0, err
		}
	}
	apps, err := list(ctx, c, applicationsGVR, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	for i := range apps {
		if err := addFinalizer(ctx, c, &apps[i]); err != nil {
			return 0, err
		}
		if err := deleteObject(ctx, c, applicationsGVR, apps[i].GetName()); err != nil {
			return 0, err
		}
	}
	if len(apps) == 0 {
		return len(sets), nil
	}
	req.Emit("applications", "Argo CD is deleting the resources of %d Applications (cascade)", len(apps))
	wctx, cancel := context.WithTimeout(ctx, CascadeTimeout)
	defer cancel()
	for {
		left, err := list(wctx, c, applicationsGVR, metav1.ListOptions{})
		if err == nil && len(left) == 0 {
			return len(sets) + len(apps), nil
		}
		select {
		case <-wctx.Done():
			return 0, fmt.Errorf("Argo CD did not finish deleting the Applications %s (%w); uninstall without cascade to leave their resources in place",
				names(left), wctx.Err())
		case <-time.After(kube.PollInterval):
		}
	}
}

func deleteObject(ctx context.Context, c *kube.Client, gvr schema.GroupVersionResource, name string) error {
	err := c.Dynamic.Resource(gvr).Namespace(namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s: %w", gvr.Resource, name, err)
	}
	return nil
}

// addFinalizer puts the cascade finalizer on an Application that lacks it: asked to
// cascade, lab deletes what every Application deployed.
func addFinalizer(ctx context.Context, c *kube.Client, app *unstructured.Unstructured) error {
	for _, f := range app.GetFinalizers() {
		if strings.HasPrefix(f, cascadeFinalizer) {
			return nil
		}
	}
	patch := fmt.Sprintf(`[{"op":"add","path":"/metadata/finalizers/-","value":%q}]`, cascadeFinalizer)
	if len(app.GetFinalizers()) == 0 {
		patch = fmt.Sprintf(`[{"op":"add","path":"/metadata/finalizers","value":[%q]}]`, cascadeFinalizer)
	}
	_, err := c.Dynamic.Resource(applicationsGVR).Namespace(namespace).Patch(ctx, app.GetName(), types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("add finalizer to Application %s: %w", app.GetName(), err)
	}
	return nil
}

func names(items []unstructured.Unstructured) string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, i.GetName())
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// purgeCRDs deletes the CRDs of Argo CD's chart when no Application, ApplicationSet or
// AppProject is left in any namespace (deleting a CRD deletes all its objects).
func purgeCRDs(ctx context.Context, c *kube.Client, req *sdk.Request) error {
	for _, gvr := range []schema.GroupVersionResource{applicationsGVR, applicationSetsGVR, appProjectsGVR} {
		l, err := c.Dynamic.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		if len(l.Items) > 0 {
			req.Warn("crds", "%s remain in namespace %s: Argo CD's CRDs are kept", gvr.Resource, l.Items[0].GetNamespace())
			return nil
		}
	}
	for _, gvr := range []schema.GroupVersionResource{applicationsGVR, applicationSetsGVR, appProjectsGVR} {
		name := gvr.Resource + "." + gvr.Group
		crd, err := c.Dynamic.Resource(crdsGVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if crd.GetLabels()["app.kubernetes.io/part-of"] != "argocd" {
			continue // not the chart's
		}
		if err := c.Dynamic.Resource(crdsGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete CRD %s: %w", name, err)
		}
		req.Emit("crds", "CRD %s deleted", name)
	}
	return nil
}
