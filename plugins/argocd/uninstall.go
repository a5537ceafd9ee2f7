package argocd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/kube"
)

// CascadeTimeout bounds the wait for Argo CD to delete the applications' resources.
var CascadeTimeout = 5 * time.Minute

// teardown runs while Argo CD still runs, before its release goes. Without req.Cascade the
// applications' workloads stay: every Application and ApplicationSet loses Argo CD's
// finalizers before it is deleted, so no controller deletes what they deployed. With
// req.Cascade, Argo CD itself deletes each Application's resources first. The AppProjects
// go too: once the controllers are gone nothing would remove a finalizer, and an object
// that keeps one holds the namespace.
func teardown(ctx context.Context, s *session) (bool, error) {
	cascade := s.Req.Cascade
	if cascade && s.Simulated() {
		s.Req.Warn("applications", "no Argo CD controller runs on a simulated (kwok) cluster to delete the applications' resources: they are left in place")
		cascade = false
	}
	n := 0
	if cascade {
		var err error
		if n, err = deleteCascading(ctx, s); err != nil {
			return false, err
		}
	}
	m, err := deleteAllOrphaning(ctx, s, applicationSetsGVR, applicationsGVR, appProjectsGVR)
	return n+m > 0, err
}

// deleteAllOrphaning deletes every object of the resources in the namespace, Argo CD's
// finalizers first, and returns how many it deleted.
func deleteAllOrphaning(ctx context.Context, s *session, gvrs ...schema.GroupVersionResource) (int, error) {
	n := 0
	for _, gvr := range gvrs {
		items, err := list(ctx, s.Kube, gvr, "")
		if err != nil {
			return n, err
		}
		for i := range items {
			if err := deleteOrphaning(ctx, s.Kube, gvr, &items[i]); err != nil {
				return n, err
			}
			n++
		}
		if gvr == applicationsGVR && len(items) > 0 {
			s.Req.Emit("applications", "deleted %d Applications without cascade: their resources are left in place", len(items))
		}
	}
	return n, nil
}

// deleteCascading lets the running Argo CD delete what the applications deployed: the
// ApplicationSets go first (so none regenerates an Application), then every Application
// is deleted with the cascade finalizer, and the wait lasts until Argo CD has removed them.
func deleteCascading(ctx context.Context, s *session) (int, error) {
	sets, err := list(ctx, s.Kube, applicationSetsGVR, "")
	if err != nil {
		return 0, err
	}
	for _, set := range sets {
		if _, err := s.Kube.Delete(ctx, applicationSetsGVR, namespace, set.GetName()); err != nil {
			return 0, err
		}
	}
	apps, err := list(ctx, s.Kube, applicationsGVR, "")
	if err != nil {
		return 0, err
	}
	for i := range apps {
		if err := addFinalizer(ctx, s.Kube, &apps[i]); err != nil {
			return 0, err
		}
		if _, err := s.Kube.Delete(ctx, applicationsGVR, namespace, apps[i].GetName()); err != nil {
			return 0, err
		}
	}
	if len(apps) == 0 {
		return len(sets), nil
	}
	s.Req.Emit("applications", "Argo CD is deleting the resources of %d Applications (cascade)", len(apps))
	wctx, cancel := context.WithTimeout(ctx, CascadeTimeout)
	defer cancel()
	for {
		left, err := list(wctx, s.Kube, applicationsGVR, "")
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
	if err := kube.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("add finalizer to Application %s: %w", app.GetName(), err)
	}
	return nil
}

func names(items []unstructured.Unstructured) string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, i.GetName())
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
