package helm

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/release"

	"github.com/nexolab/lab/core/kube"
)

// workloadsOf lists the Deployments, StatefulSets and DaemonSets of a release's manifest.
func workloadsOf(rel *release.Release) ([]kube.Workload, error) {
	objs, err := objectsOf(rel.Manifest, "Deployment", "StatefulSet", "DaemonSet")
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", rel.Name, err)
	}
	out := make([]kube.Workload, len(objs))
	for i, o := range objs {
		ns := o.GetNamespace()
		if ns == "" {
			ns = rel.Namespace
		}
		out[i] = kube.Workload{Kind: o.GetKind(), Namespace: ns, Name: o.GetName(), Labels: o.GetLabels()}
	}
	return out, nil
}

// ReleaseWorkloads reads the rollout state of every workload of a deployed release.
func (c *Client) ReleaseWorkloads(ctx context.Context, name, namespace string) ([]kube.Workload, error) {
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
func (c *Client) workloads(ctx context.Context, rel *release.Release) ([]kube.Workload, error) {
	refs, err := workloadsOf(rel)
	if err != nil {
		return nil, err
	}
	out := make([]kube.Workload, 0, len(refs))
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

func (c *Client) missingWorkloads(ctx context.Context, rel *release.Release) ([]kube.Workload, error) {
	ws, err := c.workloads(ctx, rel)
	if err != nil {
		return nil, err
	}
	var missing []kube.Workload
	for _, w := range ws {
		if !w.Found {
			missing = append(missing, w)
		}
	}
	return missing, nil
}
