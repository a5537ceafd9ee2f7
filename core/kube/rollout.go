package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/sdk"
)

// Workload is a Deployment, StatefulSet or DaemonSet and how far its rollout is.
type Workload struct {
	Kind, Namespace, Name string
	Desired, Ready        int
	// Done is true when the rollout finished: every replica updated and ready.
	Done bool
	// Found is false when the object does not exist.
	Found bool
	// Labels are the workload's labels in the release's manifest.
	Labels map[string]string
}

func (w Workload) String() string {
	return fmt.Sprintf("%s %s/%s %d/%d ready", strings.ToLower(w.Kind), w.Namespace, w.Name, w.Ready, w.Desired)
}

// PollInterval is how often waits look at the cluster.
var PollInterval = 500 * time.Millisecond

// WaitRelease waits until every workload of a release has rolled out, or ctx ends.
func (c *Client) WaitRelease(ctx context.Context, req *sdk.Request, rel *release.Release) error {
	refs, err := workloadsOf(rel)
	if err != nil {
		return err
	}
	return c.WaitWorkloads(ctx, req, "rollout "+rel.Name, refs)
}

// WaitWorkloads waits until the workloads have rolled out, reporting progress.
func (c *Client) WaitWorkloads(ctx context.Context, req *sdk.Request, step string, refs []Workload) error {
	if len(refs) == 0 {
		return nil
	}
	lastDone := -1
	for {
		var pending []Workload
		for _, r := range refs {
			w, err := c.Workload(ctx, r.Kind, r.Namespace, r.Name)
			if err != nil {
				return err
			}
			if !w.Done {
				pending = append(pending, w)
			}
		}
		done := len(refs) - len(pending)
		if done != lastDone {
			req.Progress(step, done, len(refs), fmt.Sprintf("%d/%d workloads ready", done, len(refs)))
			lastDone = done
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", describe(pending), ctx.Err())
		case <-time.After(PollInterval):
		}
	}
}

func describe(ws []Workload) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		if !w.Found {
			parts[i] = fmt.Sprintf("%s %s/%s (missing)", strings.ToLower(w.Kind), w.Namespace, w.Name)
		} else {
			parts[i] = w.String()
		}
	}
	return strings.Join(parts, ", ")
}

// Workload reads the rollout state of one workload.
func (c *Client) Workload(ctx context.Context, kind, namespace, name string) (Workload, error) {
	w := Workload{Kind: kind, Namespace: namespace, Name: name}
	apps := c.Kube.AppsV1()
	var err error
	switch kind {
	case "Deployment":
		var d *appsv1.Deployment
		if d, err = apps.Deployments(namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			w = deploymentState(d)
		}
	case "StatefulSet":
		var s *appsv1.StatefulSet
		if s, err = apps.StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			w = statefulSetState(s)
		}
	case "DaemonSet":
		var d *appsv1.DaemonSet
		if d, err = apps.DaemonSets(namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			w = daemonSetState(d)
		}
	default:
		return w, fmt.Errorf("not a workload kind: %s", kind)
	}
	if apierrors.IsNotFound(err) {
		return w, nil
	}
	return w, err
}

func replicas(p *int32) int {
	if p == nil {
		return 1
	}
	return int(*p)
}

func deploymentState(d *appsv1.Deployment) Workload {
	want := replicas(d.Spec.Replicas)
	s := d.Status
	return Workload{Kind: "Deployment", Namespace: d.Namespace, Name: d.Name, Found: true,
		Desired: want, Ready: int(s.ReadyReplicas),
		Done: s.ObservedGeneration >= d.Generation && int(s.UpdatedReplicas) == want &&
			int(s.AvailableReplicas) == want && int(s.Replicas) == want}
}

func statefulSetState(st *appsv1.StatefulSet) Workload {
	want := replicas(st.Spec.Replicas)
	s := st.Status
	updated := st.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType ||
		(s.UpdateRevision == "" || s.CurrentRevision == s.UpdateRevision || int(s.UpdatedReplicas) == want)
	return Workload{Kind: "StatefulSet", Namespace: st.Namespace, Name: st.Name, Found: true,
		Desired: want, Ready: int(s.ReadyReplicas),
		Done: s.ObservedGeneration >= st.Generation && int(s.ReadyReplicas) == want && updated}
}

func daemonSetState(d *appsv1.DaemonSet) Workload {
	s := d.Status
	want := int(s.DesiredNumberScheduled)
	return Workload{Kind: "DaemonSet", Namespace: d.Namespace, Name: d.Name, Found: true,
		Desired: want, Ready: int(s.NumberReady),
		Done: s.ObservedGeneration >= d.Generation && int(s.NumberReady) == want && int(s.UpdatedNumberScheduled) == want}
}

// workloadsOf lists the Deployments, StatefulSets and DaemonSets of a release's manifest.
func workloadsOf(rel *release.Release) ([]Workload, error) {
	objs, err := objectsOf(rel.Manifest, "Deployment", "StatefulSet", "DaemonSet")
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", rel.Name, err)
	}
	out := make([]Workload, len(objs))
	for i, o := range objs {
		ns := o.GetNamespace()
		if ns == "" {
			ns = rel.Namespace
		}
		out[i] = Workload{Kind: o.GetKind(), Namespace: ns, Name: o.GetName(), Labels: o.GetLabels()}
	}
	return out, nil
}

// ReleaseWorkloads reads the rollout state of every workload of a deployed release.
func (c *Client) ReleaseWorkloads(ctx context.Context, name, namespace string) ([]Workload, error) {
	rel, err := c.Deployed(name, namespace)
	if err != nil {
		return nil, err
	}
	if rel == nil {
		return nil, fmt.Errorf("release %s is not installed in %s", name, namespace)
	}
	return c.workloads(ctx, rel)
}

// workloads reads the rollout state of every workload of a release's manifest.
func (c *Client) workloads(ctx context.Context, rel *release.Release) ([]Workload, error) {
	refs, err := workloadsOf(rel)
	if err != nil {
		return nil, err
	}
	out := make([]Workload, 0, len(refs))
	for _, r := range refs {
		w, err := c.Workload(ctx, r.Kind, r.Namespace, r.Name)
		if err != nil {
			return nil, err
		}
		w.Labels = r.Labels
		out = append(out, w)
	}
	return out, nil
}

func (c *Client) missingWorkloads(ctx context.Context, rel *release.Release) ([]Workload, error) {
	ws, err := c.workloads(ctx, rel)
	if err != nil {
		return nil, err
	}
	var missing []Workload
	for _, w := range ws {
		if !w.Found {
			missing = append(missing, w)
		}
	}
	return missing, nil
}

// Verify reports whether a release is deployed at the given revision with every workload
// rolled out; when not, the reason says what differs.
func (c *Client) Verify(ctx context.Context, name, namespace string, revision int) (bool, string, error) {
	rel, err := c.Deployed(name, namespace)
	if err != nil {
		return false, "", err
	}
	switch {
	case rel == nil:
		return false, fmt.Sprintf("release %s is gone", name), nil
	case rel.Version != revision:
		return false, fmt.Sprintf("release %s is at revision %d, lab installed %d", name, rel.Version, revision), nil
	case rel.Info.Status != release.StatusDeployed:
		return false, fmt.Sprintf("release %s is %s", name, rel.Info.Status), nil
	}
	ws, err := c.workloads(ctx, rel)
	if err != nil {
		return false, "", err
	}
	for _, w := range ws {
		if !w.Done {
			return false, describe([]Workload{w}), nil
		}
	}
	return true, "", nil
}
