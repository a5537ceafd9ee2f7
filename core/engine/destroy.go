package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/graph"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// UninstallOptions tune how stacks are removed.
type UninstallOptions struct {
	// PurgeData also deletes the stacks' persistent data.
	PurgeData bool
	// Cascade lets a stack delete what it manages (Argo CD's applications' workloads).
	Cascade bool
}

// DestroyOptions tune Destroy.
type DestroyOptions struct {
	UninstallOptions
	// KeepCluster uninstalls the stacks but leaves a cluster lab created.
	KeepCluster bool
	// Timeout bounds the whole destroy.
	Timeout time.Duration
}

// Destroy uninstalls every recorded stack, dependents first, then deletes the cluster
// when lab created it.
func (e *Engine) Destroy(ctx context.Context, opts DestroyOptions) (*Report, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	rep := &Report{}
	st, err := e.Provider.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Exists && st.Running {
		conn, err := e.Provider.Connect(ctx)
		if err != nil {
			return nil, err
		}
		var unlock func()
		if ctx, unlock, err = e.lock(ctx, conn); err != nil {
			return nil, err
		}
		defer unlock()
		if rep.Results, err = e.uninstallRecorded(ctx, conn, opts.UninstallOptions); err != nil {
			return rep, err
		}
	}
	if len(rep.Failed()) > 0 || !e.Provider.Owned() || opts.KeepCluster || !st.Exists {
		return rep, nil
	}
	e.observer().Start("cluster", Action("delete"))
	if err := e.Provider.Delete(ctx, cluster.DeleteOptions{PurgeData: opts.PurgeData}); err != nil {
		return rep, fmt.Errorf("delete cluster %s: %w", e.Provider.Name(), err)
	}
	return rep, nil
}

func (e *Engine) uninstallRecorded(ctx context.Context, conn sdk.Cluster, opts UninstallOptions) ([]StackResult, error) {
	kc, err := kube.Connect(conn, e.log())
	if err != nil {
		return nil, err
	}
	st := state.New(kc.Kube)
	records, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	g := graph.Graph{}
	for name, r := range records {
		var deps []string
		for _, d := range r.DependsOn {
			if _, ok := records[d]; ok {
				deps = append(deps, d)
			}
		}
		g[name] = deps
	}
	order, err := g.Order()
	if err != nil {
		return nil, err
	}
	reverse(order)
	var results []StackResult
	for _, name := range order {
		results = append(results, e.uninstall(ctx, st, conn, name, records[name], opts))
	}
	failed := false
	for _, r := range results {
		failed = failed || r.Outcome == Failed
	}
	if !failed {
		err = st.DeleteAll(ctx)
	}
	return results, err
}

// uninstall removes one recorded stack with its plugin, then its record.
func (e *Engine) uninstall(ctx context.Context, st *state.Store, conn sdk.Cluster, name string, rec state.Record, opts UninstallOptions) StackResult {
	start := time.Now()
	e.observer().Start(name, Uninstall)
	req := e.request(&Stack{Name: name}, conn)
	req.ConfigJSON = rec.Config // the config it was installed with, not today's
	req.PurgeData, req.Cascade = opts.PurgeData, opts.Cascade
	res, err := e.call(ctx, name, uninstallTimeout, func(ctx context.Context, c *sdk.Client) (*sdk.Result, error) {
		return c.Uninstall(ctx, req)
	})
	r := StackResult{Stack: name, Action: Uninstall, Outcome: OK, Result: res, Duration: time.Since(start)}
	if err == nil {
		err = st.Delete(ctx, name)
	}
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("stack %s failed to uninstall: %w", name, err)
	}
	e.observer().Done(r)
	return r
}

const uninstallTimeout = 5 * time.Minute
