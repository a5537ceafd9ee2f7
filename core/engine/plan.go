package engine

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/graph"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// Action is what apply does to a stack.
type Action string

const (
	Install   Action = "install"
	Upgrade   Action = "upgrade"
	Unchanged Action = "unchanged"
	Uninstall Action = "uninstall"
	Skip      Action = "skip"
	Check     Action = "health"
	Backup    Action = "backup"
	Restore   Action = "restore"
)

// ClusterAction is what apply does to the cluster.
type ClusterAction string

const (
	CreateCluster  ClusterAction = "create"
	StartCluster   ClusterAction = "start"
	ReuseCluster   ClusterAction = "reuse"
	RecreateNeeded ClusterAction = "differs"
	Unreachable    ClusterAction = "unreachable"
)

// Plan is what apply would do.
type Plan struct {
	Cluster ClusterPlan `json:"cluster"`
	// Changes lists uninstalls first (reverse dependency order), then the enabled stacks
	// in dependency order.
	Changes []Change `json:"stacks"`

	stacks  []*Stack
	records map[string]state.Record
	conn    *sdk.Cluster
}

// ClusterPlan is what apply would do to the cluster.
type ClusterPlan struct {
	Provider    string        `json:"provider"`
	Name        string        `json:"name"`
	Action      ClusterAction `json:"action"`
	Detail      string        `json:"detail,omitempty"`
	Differences []string      `json:"differences,omitempty"`
}

// Change is what apply would do to one stack.
type Change struct {
	Stack  string `json:"stack"`
	Action Action `json:"action"`
	Reason string `json:"reason"`
	// Wave is the stack's place in the dependency order: 0 runs first.
	Wave int `json:"wave"`
}

// Needs reports whether the plan has a change of the action.
func (p *Plan) Needs(a Action) bool {
	for _, c := range p.Changes {
		if c.Action == a {
			return true
		}
	}
	return false
}

// Plan validates, looks at the cluster and the recorded state, and says what apply would do.
func (e *Engine) Plan(ctx context.Context) (*Plan, hcl.Diagnostics, error) {
	stacks, diags := e.Validate(ctx)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	p := &Plan{stacks: stacks, records: map[string]state.Record{}}
	st, err := e.Provider.Status(ctx)
	if err != nil { // still say what apply would do to the stacks, and why it cannot
		p.Cluster = ClusterPlan{Provider: e.Provider.Kind(), Name: e.Provider.Name(), Action: Unreachable, Detail: err.Error()}
		p.Changes, err = changes(stacks, p.records)
		return p, diags, err
	}
	p.Cluster = clusterPlan(e.Provider, st)
	if p.Cluster.Action == ReuseCluster || p.Cluster.Action == RecreateNeeded {
		conn, err := e.Provider.Connect(ctx)
		if err != nil {
			return nil, diags, fmt.Errorf("cluster %s: %w", e.Provider.Name(), err)
		}
		p.conn = &conn
		if p.records, err = e.records(ctx, conn); err != nil {
			return nil, diags, err
		}
	}
	p.Changes, err = changes(stacks, p.records)
	return p, diags, err
}

func clusterPlan(p cluster.Provider, st cluster.Status) ClusterPlan {
	cp := ClusterPlan{Provider: p.Kind(), Name: p.Name(), Detail: st.Detail, Differences: st.Differences}
	switch {
	case !st.Exists && p.Owned():
		cp.Action = CreateCluster
	case !st.Exists || (!st.Running && !p.Owned()):
		cp.Action = Unreachable
	case !st.Running:
		cp.Action = StartCluster
	case len(st.Differences) > 0:
		cp.Action = RecreateNeeded
	default:
		cp.Action = ReuseCluster
	}
	return cp
}

func (e *Engine) records(ctx context.Context, conn sdk.Cluster) (map[string]state.Record, error) {
	kc, err := kube.Connect(conn, e.log())
	if err != nil {
		return nil, err
	}
	return state.New(kc.Kube).List(ctx)
}

func changes(stacks []*Stack, records map[string]state.Record) ([]Change, error) {
	enabled := map[string]*Stack{}
	for _, s := range stacks {
		enabled[s.Name] = s
	}
	removed, err := removalOrder(records, enabled)
	if err != nil {
		return nil, err
	}
	var out []Change
	for _, name := range removed {
		out = append(out, Change{Stack: name, Action: Uninstall, Reason: "no longer enabled in lab.hcl"})
	}
	waves, err := graphOf(stacks).Waves()
	if err != nil {
		return nil, err
	}
	for i, wave := range waves {
		for _, name := range wave {
			c := change(enabled[name], records)
			c.Wave = i
			out = append(out, c)
		}
	}
	return out, nil
}

func change(s *Stack, records map[string]state.Record) Change {
	c := Change{Stack: s.Name}
	r, installed := records[s.Name]
	switch {
	case s.NoPlugin:
		c.Action, c.Reason = Skip, "no plugin found"
	case !installed:
		c.Action, c.Reason = Install, "not installed"
	case r.Status != state.Installed:
		c.Action, c.Reason = Upgrade, "last apply failed: "+r.Error
	case r.PluginVersion != s.Plugin.Info.Version:
		c.Action, c.Reason = Upgrade, fmt.Sprintf("plugin %s -> %s", r.PluginVersion, s.Plugin.Info.Version)
	case r.ConfigHash != s.Hash:
		c.Action, c.Reason = Upgrade, "config changed"
	case r.PluginSHA256 != s.Plugin.SHA256:
		c.Action, c.Reason = Upgrade, "plugin binary changed"
	default:
		c.Action, c.Reason = Unchanged, "up to date"
	}
	return c
}

// removalOrder lists recorded stacks that are no longer enabled, dependents first.
func removalOrder(records map[string]state.Record, enabled map[string]*Stack) ([]string, error) {
	g := graph.Graph{}
	for name, r := range records {
		if enabled[name] != nil {
			continue
		}
		var deps []string
		for _, d := range r.DependsOn {
			if _, ok := records[d]; ok && enabled[d] == nil {
				deps = append(deps, d)
			}
		}
		g[name] = deps
	}
	order, err := g.Order()
	if err != nil {
		return nil, fmt.Errorf("recorded stacks: %w", err)
	}
	reverse(order)
	return order, nil
}

func reverse(s []string) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
