package helmstack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Stack is an sdk.Stack made from a Spec. Embed it to add or override methods.
type Stack[C any] struct {
	spec Spec[C]
}

// New makes a stack of a Spec.
func New[C any](spec Spec[C]) *Stack[C] { return &Stack[C]{spec: spec} }

var _ sdk.Stack = (*Stack[struct{}])(nil)
var _ sdk.Validator = (*Stack[struct{}])(nil)

func (st *Stack[C]) Info() sdk.Info { return st.spec.Info }

func (st *Stack[C]) Config() any { return st.spec.Defaults() }

// Validate runs the Spec's rules.
func (st *Stack[C]) Validate(_ context.Context, req *sdk.Request) sdk.Diagnostics {
	var d sdk.Diagnostics
	cfg, ok := req.Config.(*C)
	if !ok {
		d.Errorf("", "config: got %T", req.Config)
		return d
	}
	if st.spec.Validate != nil {
		st.spec.Validate(cfg, req, &d)
	}
	return d
}

// Session opens a session on the request's cluster; dry sessions (render) may go without.
func (st *Stack[C]) Session(req *sdk.Request, dry bool) (*Session[C], error) {
	if req.Config == nil {
		req.Config = st.spec.Defaults()
	}
	if err := st.Validate(context.Background(), req).Err(); err != nil {
		return nil, err
	}
	s := &Session[C]{Req: req, Config: req.Config.(*C), DryRun: dry, Values: map[string]any{}, info: st.spec.Info}
	if dry && len(req.Cluster.Kubeconfig) == 0 {
		return s, nil
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		if dry {
			return s, nil
		}
		return nil, err
	}
	s.Kube, s.Helm = c, helm.New(c)
	return s, nil
}

// releases are the Spec's releases with the user's chart overrides merged in.
func (st *Stack[C]) releases(s *Session[C]) ([]helm.Release, error) {
	rels, err := st.spec.Releases(s)
	if err != nil {
		return nil, err
	}
	for i, r := range rels {
		o := s.Req.Charts[r.Chart.Name]
		rels[i].Chart = r.Chart.Override(o)
		rels[i].Values = helm.Merge(r.Values, o.Values)
	}
	return rels, nil
}

// prepared runs Prepare, then returns the releases.
func (st *Stack[C]) prepared(ctx context.Context, s *Session[C]) ([]helm.Release, error) {
	if st.spec.Prepare != nil {
		if err := st.spec.Prepare(ctx, s); err != nil {
			return nil, err
		}
	}
	return st.releases(s)
}

// Install reads the Inputs, makes the namespaces, runs Prepare, installs or upgrades each release (only when
// its chart or values changed) and waits for its workloads, then runs After.
func (st *Stack[C]) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	s, err := st.Session(req, false)
	if err != nil {
		return nil, err
	}
	if st.spec.Inputs != nil {
		if err := st.spec.Inputs(s); err != nil {
			return nil, err
		}
	}
	for _, ns := range st.spec.Namespaces(s.Config) {
		req.Emit("namespace", "namespace %s with its quota", ns.Name)
		if err := s.Kube.EnsureNamespace(ctx, ns.Name, ns.Quota); err != nil {
			return nil, err
		}
	}
	res := &sdk.Result{}
	if res.Changed, err = st.removeReplaced(ctx, s); err != nil {
		return nil, err
	}
	rels, err := st.prepared(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		rel, err := s.Helm.Apply(ctx, req, r)
		if err != nil {
			return nil, err
		}
		res.Releases = append(res.Releases, rel)
		res.Changed = res.Changed || rel.Changed
	}
	if st.spec.After != nil {
		changed, err := st.spec.After(ctx, s)
		if err != nil {
			return nil, err
		}
		res.Changed = res.Changed || changed
	}
	res.Summary = st.summary(s, res.Releases)
	return res, nil
}

// removeReplaced uninstalls the releases the config no longer asks for.
func (st *Stack[C]) removeReplaced(ctx context.Context, s *Session[C]) (bool, error) {
	if st.spec.Replaced == nil {
		return false, nil
	}
	changed := false
	for _, r := range st.spec.Replaced(s.Config) {
		removed, err := s.Helm.Uninstall(ctx, r.Name, r.Namespace)
		if err != nil {
			return false, err
		}
		if removed {
			s.Req.Emit("chart", "removed release %s, which the config no longer asks for", r.Name)
			changed = true
		}
	}
	return changed, nil
}

func (st *Stack[C]) summary(s *Session[C], rels []sdk.Release) string {
	if st.spec.Summary != nil {
		return st.spec.Summary(s, rels)
	}
	parts := make([]string, len(rels))
	for i, r := range rels {
		parts[i] = fmt.Sprintf("%s %s (revision %d)", r.Chart, r.Version, r.Revision)
	}
	return "installed " + strings.Join(parts, ", ")
}

// Releases are the releases Install would apply, the user's chart blocks merged in, with
// their values unmasked. It creates nothing: generated values that do not exist yet read
// as Placeholder.
func (st *Stack[C]) Releases(ctx context.Context, req *sdk.Request) ([]helm.Release, error) {
	s, err := st.Session(req, true)
	if err != nil {
		return nil, err
	}
	return st.prepared(ctx, s)
}

// Render returns the values Install would give each chart, secrets masked.
func (st *Stack[C]) Render(ctx context.Context, req *sdk.Request) ([]sdk.RenderedChart, error) {
	rels, err := st.Releases(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.RenderedChart, len(rels))
	for i, r := range rels {
		out[i] = r.Rendered()
	}
	return out, nil
}

// Uninstall runs Teardown, removes the releases (last first) and every object labelled as
// the stack's, then the namespaces. Volumes, Secrets, namespaces holding data and the
// charts' CRDs go only with req.PurgeData.
func (st *Stack[C]) Uninstall(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	s, err := st.Session(req, false)
	if err != nil {
		return nil, err
	}
	s.DryRun = true // what the releases are, without generating anything
	res := &sdk.Result{}
	if st.spec.Teardown != nil {
		if res.Changed, err = st.spec.Teardown(ctx, s); err != nil {
			return nil, err
		}
	}
	rels, err := st.prepared(ctx, s)
	if err != nil {
		return nil, err
	}
	if replaced, err := st.removeReplaced(ctx, s); err != nil {
		return nil, err
	} else if replaced {
		res.Changed = true
	}
	for _, r := range slices.Backward(rels) {
		removed, err := s.Helm.Uninstall(ctx, r.Name, r.Namespace)
		if err != nil {
			return nil, err
		}
		if removed {
			req.Emit("chart", "release %s removed", r.Name)
			res.Changed = true
		}
	}
	n, err := s.Kube.DeleteOwned(ctx, s.Stack(), req.PurgeData)
	if err != nil {
		return nil, err
	}
	res.Changed = res.Changed || n > 0
	kept, deleted, err := st.deleteNamespaces(ctx, s)
	if err != nil {
		return nil, err
	}
	res.Changed = res.Changed || deleted
	res.Summary = st.spec.Info.Name + " removed"
	if len(kept) > 0 {
		res.Summary += fmt.Sprintf("; namespace %s kept with its data (purge the data to delete it)", strings.Join(kept, ", "))
	}
	if req.PurgeData && len(st.spec.CRDGroups) > 0 {
		names := make([]string, len(rels))
		for i, r := range rels {
			names[i] = r.Name
		}
		k, err := s.Kube.DeleteCRDs(ctx, st.spec.CRDGroups, names)
		if err != nil {
			return nil, err
		}
		req.Emit("crds", "deleted %d CRDs of %s", k, strings.Join(st.spec.CRDGroups, ", "))
		res.Changed = res.Changed || k > 0
	} else if len(st.spec.CRDGroups) > 0 {
		res.Summary += fmt.Sprintf("; CRDs of %s kept", strings.Join(st.spec.CRDGroups, ", "))
	}
	return res, nil
}

// deleteNamespaces deletes the stack's namespaces, keeping those with data unless it is
// purged; it returns the names it kept and whether it deleted one that existed.
func (st *Stack[C]) deleteNamespaces(ctx context.Context, s *Session[C]) (kept []string, deleted bool, err error) {
	for _, ns := range st.spec.Namespaces(s.Config) {
		if ns.Data && !s.Req.PurgeData {
			kept = append(kept, ns.Name)
			continue
		}
		_, err := s.Kube.Kube.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
		if kube.IgnoreNotFound(err) != nil {
			return nil, false, err
		}
		if err != nil {
			continue // already gone
		}
		s.Req.Emit("namespace", "deleting namespace %s", ns.Name)
		if err := s.Kube.DeleteNamespace(ctx, ns.Name); err != nil {
			return nil, false, err
		}
		deleted = true
	}
	return kept, deleted, nil
}
