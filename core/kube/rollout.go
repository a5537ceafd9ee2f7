package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	if !w.Found {
		return fmt.Sprintf("%s %s/%s (missing)", strings.ToLower(w.Kind), w.Namespace, w.Name)
	}
	return fmt.Sprintf("%s %s/%s %d/%d ready", strings.ToLower(w.Kind), w.Namespace, w.Name, w.Ready, w.Desired)
}

// Ref names the workload in a release record (sdk.Release.Workloads): "Kind/namespace/name".
func (w Workload) Ref() string { return w.Kind + "/" + w.Namespace + "/" + w.Name }

// workloadOf is the workload a Ref names, not yet read.
func workloadOf(ref string) Workload {
	kind, rest, _ := strings.Cut(ref, "/")
	ns, name, _ := strings.Cut(rest, "/")
	return Workload{Kind: kind, Namespace: ns, Name: name}
}

// PollInterval is how often waits look at the cluster.
var PollInterval = 500 * time.Millisecond

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
			return fmt.Errorf("waiting for %s: %w", Describe(pending), ctx.Err())
		case <-time.After(PollInterval):
		}
	}
}

// Describe lists workloads and their state, for a message.
func Describe(ws []Workload) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.String()
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
