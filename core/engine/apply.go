package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Refresh runs every stack's Install even when the plan says it is unchanged, to
	// repair drift beyond its Helm releases.
	Refresh bool
	// Recreate deletes and re-creates a cluster that differs from lab.hcl.
	Recreate bool
	// Retain keeps what a failed cluster create made.
	Retain bool
}

// Report is what an apply or destroy did.
type Report struct {
	Plan    *Plan
	Results []StackResult
}

// Failed lists the stacks that failed.
func (r *Report) Failed() []string {
	var out []string
	for _, res := range r.Results {
		if res.Outcome == Failed {
			out = append(out, res.Stack)
		}
	}
	return out
}

// Apply makes the cluster and the stacks match lab.hcl.
func (e *Engine) Apply(ctx context.Context, opts ApplyOptions) (*Report, hcl.Diagnostics, error) {
	plan, diags, err := e.Plan(ctx)
	if err != nil || diags.HasErrors() {
		return nil, diags, err
	}
	rep, err := e.ApplyPlan(ctx, plan, opts)
	return rep, diags, err
}

// ApplyPlan carries out a plan made by Plan.
func (e *Engine) ApplyPlan(ctx context.Context, plan *Plan, opts ApplyOptions) (*Report, error) {
	conn, err := e.ensureCluster(ctx, plan, opts)
	if err != nil {
		return nil, err
	}
	if rep := e.quiet(ctx, plan, conn, opts); rep != nil {
		return rep, nil
	}
	ctx, unlock, err := e.lock(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer unlock()
	kc, err := kube.Connect(conn, e.log())
	if err != nil {
		return nil, err
	}
	if err := e.replan(ctx, plan, kc); err != nil {
		return nil, err
	}
	if err := e.ensureTLS(ctx, kc); err != nil {
		return nil, err
	}
	st := state.New(kc.Kube)
	rep := &Report{Plan: plan}
	for _, c := range plan.Changes {
		if c.Action == Uninstall {
			rep.Results = append(rep.Results, e.uninstall(ctx, st, conn, c.Stack, plan.records[c.Stack], UninstallOptions{}))
		}
	}
	rep.Results = append(rep.Results, e.installAll(ctx, st, kc, conn, plan, opts.Refresh)...)
	return rep, nil
}

// ensureCluster creates, starts or reuses the cluster as planned and connects to it.
func (e *Engine) ensureCluster(ctx context.Context, plan *Plan, opts ApplyOptions) (sdk.Cluster, error) {
	p := e.Provider
	switch plan.Cluster.Action {
	case ReuseCluster:
		return *plan.conn, nil
	case Unreachable:
		return sdk.Cluster{}, fmt.Errorf("cluster %s is not reachable: %s", p.Name(), plan.Cluster.Detail)
	case RecreateNeeded:
		if !opts.Recreate {
			return sdk.Cluster{}, fmt.Errorf("cluster %s differs from lab.hcl (%s): run apply --recreate to delete and re-create it",
				p.Name(), strings.Join(plan.Cluster.Differences, "; "))
		}
		if err := p.Delete(ctx, cluster.DeleteOptions{}); err != nil {
			return sdk.Cluster{}, fmt.Errorf("delete cluster %s: %w", p.Name(), err)
		}
		plan.records = nil // the state lived in the deleted cluster
		fallthrough
	case CreateCluster:
		if err := e.preflight(ctx, plan); err != nil {
			return sdk.Cluster{}, err
		}
		e.observer().Start("cluster", Action("create"))
		if err := p.Create(ctx, cluster.CreateOptions{Retain: opts.Retain}); err != nil {
			return sdk.Cluster{}, fmt.Errorf("create cluster %s: %w", p.Name(), err)
		}
	case StartCluster:
		e.observer().Start("cluster", Action("start"))
		if err := p.Start(ctx); err != nil {
			return sdk.Cluster{}, fmt.Errorf("start cluster %s: %w", p.Name(), err)
		}
	}
	return p.Connect(ctx)
}

// preflight runs the provider's checks before it creates anything.
func (e *Engine) preflight(ctx context.Context, plan *Plan) error {
	pf, ok := e.Provider.(cluster.Preflighter)
	if !ok {
		return nil
	}
	err := cluster.PreflightError(pf.Preflight(ctx, Footprint(plan.stacks, e.Provider)))
	if err != nil {
		err = fmt.Errorf("%w\n  %s", err, ByStack(plan.stacks, e.Provider))
	}
	return err
}

// Footprint sums what the stacks' plugins say they need on the provider's cluster: what
// runs once, plus what runs on every node times the nodes (3 when the provider can't say).
func Footprint(stacks []*Stack, p cluster.Provider) sdk.Footprint {
	var f sdk.Footprint
	for _, s := range stacks {
		f = f.Plus(stackFootprint(s, p), 1)
	}
	return f
}

func stackFootprint(s *Stack, p cluster.Provider) sdk.Footprint {
	nodes := int64(3)
	if nc, ok := p.(cluster.NodeCounter); ok {
		nodes = int64(nc.NodeCount())
	}
	return s.Plugin.Info.Footprint.Plus(s.Plugin.Info.FootprintPerNode, nodes)
}

// ByStack names what each stack requests, largest memory first, so that a preflight that
// fails on memory or CPUs says which stacks to drop or shrink.
func ByStack(stacks []*Stack, p cluster.Provider) string {
	sorted := slices.Clone(stacks)
	slices.SortFunc(sorted, func(a, b *Stack) int {
		return cmp.Compare(stackFootprint(b, p).MemoryRequestBytes, stackFootprint(a, p).MemoryRequestBytes)
	})
	parts := make([]string, 0, len(sorted))
	for _, s := range sorted {
		f := stackFootprint(s, p)
		parts = append(parts, fmt.Sprintf("%s %dm CPU / %dMi", s.Name, f.CPURequestMillis, f.MemoryRequestBytes>>20))
	}
	return "the stacks request: " + strings.Join(parts, ", ")
}

// installAll installs every enabled stack once its dependencies are done, at most
// Parallelism at a time. A stack whose dependency did not succeed is skipped.
func (e *Engine) installAll(ctx context.Context, st *state.Store, kc *kube.Client, conn sdk.Cluster, plan *Plan, refresh bool) []StackResult {
	byName := map[string]Change{}
	for _, c := range plan.Changes {
		if c.Action != Uninstall {
			byName[c.Stack] = c
		}
	}
	done := map[string]chan struct{}{}
	for _, s := range plan.stacks {
		done[s.Name] = make(chan struct{})
	}
	results := make([]StackResult, len(plan.stacks))
	e.prelaunch(ctx, plan, byName, refresh)
	// An unchanged stack is verified against what the cluster holds once the stacks it
	// waited for are done: each install that finishes starts a new snapshot.
	var verifier atomic.Pointer[kube.Verifier]
	verifier.Store(kc.NewVerifier())
	outcome := sync.Map{}
	sem := make(chan struct{}, max(e.Parallelism, 1))
	var wg sync.WaitGroup
	for i, s := range plan.stacks {
		wg.Go(func() {
			defer close(done[s.Name])
			for _, d := range s.DependsOn {
				<-done[d]
			}
			action := byName[s.Name].Action
			res := e.skipIfBlocked(s, action, &outcome)
			if res == nil && action == Unchanged && !refresh {
				res = e.verify(ctx, verifier.Load(), s, plan.records[s.Name])
			}
			if res == nil {
				res = e.whenFree(ctx, sem, s, func() *StackResult {
					return e.install(ctx, st, conn, s, byName[s.Name].Action, plan.records[s.Name])
				})
				verifier.Store(kc.NewVerifier())
			}
			outcome.Store(s.Name, res.Outcome)
			results[i] = *res
		})
	}
	wg.Wait()
	return results
}

// prelaunch starts, in the background and in dependency order, the plugins of the stacks
// that will install, at most Parallelism at a time, so that a stack whose dependencies are
// done finds its plugin running: a deep graph no longer pays a launch per level. A launch
// that fails here is tried again, and reported, when the stack's turn comes.
func (e *Engine) prelaunch(ctx context.Context, plan *Plan, changes map[string]Change, refresh bool) {
	sem := make(chan struct{}, max(e.Parallelism, 1))
	go func() {
		for _, s := range plan.stacks { // in dependency order
			if s.NoPlugin || (changes[s.Name].Action == Unchanged && !refresh) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				defer func() { <-sem }()
				lctx, cancel := context.WithTimeout(ctx, s.Block.Timeout)
				defer cancel()
				_, _ = e.Host.Launch(lctx, s.Name)
			}()
		}
	}()
}

func (e *Engine) skipIfBlocked(s *Stack, action Action, outcome *sync.Map) *StackResult {
	if s.NoPlugin {
		r := StackResult{Stack: s.Name, Action: Skip, Outcome: Skipped, Err: errors.New("no plugin found")}
		e.observer().Done(r)
		return &r
	}
	for _, d := range s.DependsOn {
		if o, _ := outcome.Load(d); o != OK {
			r := StackResult{Stack: s.Name, Action: action, Outcome: Skipped,
				Err: fmt.Errorf("depends on %s, which %s", d, o)}
			e.observer().Done(r)
			return &r
		}
	}
	return nil
}

// verify is the no-op path: an unchanged stack whose recorded Helm releases are deployed
// at their recorded revisions with every workload rolled out needs no plugin launch.
// Otherwise it returns nil and the plugin's Install runs to converge.
func (e *Engine) verify(ctx context.Context, v *kube.Verifier, s *Stack, rec state.Record) *StackResult {
	r := e.verified(ctx, v, s, rec)
	if r != nil {
		e.tellUnchanged(*r)
	}
	return r
}

// tellUnchanged tells the observer of a stack verified unchanged.
func (e *Engine) tellUnchanged(r StackResult) {
	e.observer().Start(r.Stack, Unchanged)
	e.observer().Done(r)
}

// verified is verify without telling the observer.
func (e *Engine) verified(ctx context.Context, v *kube.Verifier, s *Stack, rec state.Record) *StackResult {
	start := time.Now()
	for _, rel := range rec.Releases {
		ok, why, err := v.Verify(ctx, rel)
		if err != nil || !ok {
			e.log().Info("stack drifted; running its install", "stack", s.Name, "why", why, "error", err)
			return nil
		}
	}
	return &StackResult{Stack: s.Name, Action: Unchanged, Outcome: OK, Duration: time.Since(start),
		Result: &sdk.Result{Releases: rec.Releases, Summary: fmt.Sprintf("%d release(s) verified, plugin not launched", len(rec.Releases))}}
}

// install runs one plugin's Install within the stack's timeout and records the outcome.
func (e *Engine) install(ctx context.Context, st *state.Store, conn sdk.Cluster, s *Stack, action Action, prev state.Record) *StackResult {
	start := time.Now()
	e.observer().Start(s.Name, action)
	step := "launch"
	req := e.request(s, conn)
	onEvent := req.OnEvent
	req.OnEvent = func(ev sdk.Event) {
		step = ev.Step
		onEvent(ev)
	}
	res, err := e.call(ctx, s.Name, s.Block.Timeout, func(ctx context.Context, c *sdk.Client) (*sdk.Result, error) {
		step = "install"
		return c.Install(ctx, req)
	})
	r := StackResult{Stack: s.Name, Action: action, Outcome: OK, Step: step, Result: res, Duration: time.Since(start)}
	rec := state.Record{Stack: s.Name, PluginVersion: s.Plugin.Info.Version, PluginSHA256: s.Plugin.SHA256, ConfigHash: s.Hash,
		DependsOn: s.DependsOn, Status: state.Installed}
	rec.Config, rec.Sensitive = state.Redact(s.ConfigJSON, s.Plugin.Schema)
	if res != nil {
		rec.Releases = res.Releases
	}
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("stack %s failed in step %q: %w", s.Name, step, err)
		rec.Status, rec.Error = state.Failed, err.Error()
		if errors.Is(err, ErrInterrupted) {
			rec.Status = state.Interrupted
		}
		rec.Releases = prev.Releases
	}
	if perr := st.Put(context.WithoutCancel(ctx), rec); perr != nil && r.Err == nil {
		r.Outcome, r.Err = Failed, perr
	}
	e.observer().Done(r)
	return &r
}

// InterruptGrace is how long a running plugin may still work after an interrupt (Ctrl-C,
// SIGTERM, a lost lock) before its context ends and it is stopped.
var InterruptGrace = 2 * time.Second

// ErrInterrupted marks work stopped by an interrupt.
var ErrInterrupted = errors.New("interrupted")

// call launches a stack's plugin and runs fn with a deadline. A plugin that does not
// return in time or dies is stopped, so no process is left behind. When ctx ends (an
// interrupt), the plugin gets InterruptGrace to finish before it is told to stop.
func (e *Engine) call(ctx context.Context, stack string, timeout time.Duration, fn func(context.Context, *sdk.Client) (*sdk.Result, error)) (*sdk.Result, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w before it started (%v)", ErrInterrupted, context.Cause(ctx))
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(InterruptGrace, cancel) })()
	p, err := e.Host.Launch(pctx, stack)
	if err != nil {
		return nil, err
	}
	res, err := fn(pctx, p.Client)
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		e.Host.Stop(stack)
		return nil, fmt.Errorf("%w (%v): the plugin was stopped after a grace of %s", ErrInterrupted, context.Cause(ctx), InterruptGrace)
	case errors.Is(pctx.Err(), context.DeadlineExceeded):
		e.Host.Stop(stack)
		return nil, fmt.Errorf("did not finish within %s; the plugin was stopped", timeout)
	case errors.Is(err, sdk.ErrPluginGone) || p.Exited():
		e.Host.Stop(stack)
		return nil, fmt.Errorf("the plugin process ended unexpectedly (%w)", err)
	}
	return nil, err
}
