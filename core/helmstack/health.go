package helmstack

import (
	"context"
	"fmt"
	"strings"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Health checks the rollout of the releases' workloads, as the Rollouts name them, then
// runs the Spec's own checks.
func (st *Stack[C]) Health(ctx context.Context, req *sdk.Request) (*sdk.Health, error) {
	s, err := st.Session(req, false)
	if err != nil {
		return nil, err
	}
	s.DryRun = true // health reads, never writes
	h := &sdk.Health{}
	if st.spec.Endpoints != nil {
		h.Endpoints = st.spec.Endpoints(s)
	}
	rels, err := st.prepared(ctx, s)
	if err != nil {
		return nil, err
	}
	st.checkRollouts(ctx, s, h, rels)
	if st.spec.Checks != nil {
		st.spec.Checks(ctx, s, h)
	}
	return h, nil
}

func (st *Stack[C]) checkRollouts(ctx context.Context, s *Session[C], h *sdk.Health, rels []helm.Release) {
	rollouts := st.spec.Rollouts
	if len(rollouts) == 0 {
		for _, r := range rels {
			rollouts = append(rollouts, Rollout{Check: r.Name + " rollout", Release: r.Name})
		}
	}
	workloads := map[string][]kube.Workload{}
	errs := map[string]error{}
	for _, ro := range rollouts {
		rel := releaseOf(rels, ro.Release)
		if rel == nil {
			h.Add(ro.Check, sdk.Unhealthy, "the stack has no release %s", ro.Release)
			continue
		}
		if _, read := workloads[rel.Name]; !read && errs[rel.Name] == nil {
			workloads[rel.Name], errs[rel.Name] = s.Helm.ReleaseWorkloads(ctx, rel.Name, rel.Namespace)
		}
		if err := errs[rel.Name]; err != nil {
			h.Add(ro.Check, sdk.Unhealthy, "%v", err)
			continue
		}
		checkRollout(ctx, s.Kube, h, ro, rel.Name, match(workloads[rel.Name], ro.Name))
	}
}

func releaseOf(rels []helm.Release, name string) *helm.Release {
	for i := range rels {
		if name == "" || rels[i].Name == name {
			return &rels[i]
		}
	}
	return nil
}

// match keeps the workloads whose app.kubernetes.io/name label, or name, is name.
func match(ws []kube.Workload, name string) []kube.Workload {
	if name == "" {
		return ws
	}
	var out []kube.Workload
	for _, w := range ws {
		if w.Labels["app.kubernetes.io/name"] == name || w.Name == name {
			out = append(out, w)
		}
	}
	return out
}

// checkRollout is one rollout check: healthy when every workload rolled out (a DaemonSet
// on every node it should run on), unhealthy when one did not or none exists.
func checkRollout(ctx context.Context, c *kube.Client, h *sdk.Health, ro Rollout, release string, ws []kube.Workload) {
	if len(ws) == 0 {
		if ro.Optional {
			h.Add(ro.Check, sdk.Healthy, "not part of this configuration")
			return
		}
		what := "workloads"
		if ro.Name != "" {
			what = "workload named " + ro.Name
		}
		h.Add(ro.Check, sdk.Unhealthy, "release %s has no %s", release, what)
		return
	}
	var pending, ready, short []string
	for _, w := range ws {
		if !w.Done {
			pending = append(pending, w.String())
			continue
		}
		if w.Kind != "DaemonSet" {
			ready = append(ready, w.String())
			continue
		}
		ready = append(ready, fmt.Sprintf("%s on %d nodes", w.String(), w.Desired))
		gap, err := c.Coverage(ctx, w)
		if err != nil {
			h.Add(ro.Check, sdk.Unhealthy, "%v", err)
			return
		}
		if gap != "" {
			short = append(short, fmt.Sprintf("%s %s", w.String(), gap))
		}
	}
	switch {
	case len(pending) > 0:
		h.Add(ro.Check, sdk.Unhealthy, "not ready: %s", strings.Join(pending, ", "))
	case len(short) > 0:
		h.Add(ro.Check, sdk.Degraded, "%s", strings.Join(short, ", "))
	default:
		h.Add(ro.Check, sdk.Healthy, "%s", strings.Join(ready, ", "))
	}
}
