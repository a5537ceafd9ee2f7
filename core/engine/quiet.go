package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/lock"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// quiet is the apply of a lab with nothing to change: when the plan changes nothing, no
// other writer holds the lock, every stack verifies and the cluster already serves the
// lab's certificate, it reports every stack unchanged having only read. It takes no lock,
// because a write before the reads would make each consistent list wait for the API
// server's watch cache to catch up (60-90 ms on an etcd-backed server), and an unchanged
// lab stays untouched. It returns nil when anything needs work; apply then takes the lock
// and does it the usual way.
func (e *Engine) quiet(ctx context.Context, plan *Plan, conn sdk.Cluster, opts ApplyOptions) *Report {
	if opts.Refresh || plan.Cluster.Action != ReuseCluster || len(plan.stacks) == 0 {
		return nil
	}
	for _, c := range plan.Changes {
		if c.Action != Unchanged {
			return nil
		}
	}
	for _, s := range plan.stacks {
		if s.NoPlugin {
			return nil // reported as skipped by the usual way
		}
	}
	kc, err := kube.Connect(conn, e.log())
	if err != nil {
		return nil
	}
	// The three reads at once: a no-op apply is mostly waiting on the API server.
	var free, tls, ok bool
	var results []StackResult
	var wg sync.WaitGroup
	wg.Go(func() {
		h, err := lock.Holding(ctx, kc.Kube, state.Namespace)
		free = err == nil && h == nil // else the locked path says who holds it
	})
	wg.Go(func() { tls = e.tlsCurrent(ctx, kc) })
	wg.Go(func() { results, ok = e.verifyAll(ctx, kc, plan) })
	wg.Wait()
	if !free || !tls || !ok {
		return nil
	}
	for _, r := range results {
		e.tellUnchanged(r)
	}
	return &Report{Plan: plan, Results: results}
}

// verifyAll verifies every stack at once, telling no one; ok is false when one drifted.
func (e *Engine) verifyAll(ctx context.Context, kc *kube.Client, plan *Plan) ([]StackResult, bool) {
	v := kc.NewVerifier()
	results := make([]StackResult, len(plan.stacks))
	var drifted atomic.Bool
	var wg sync.WaitGroup
	for i, s := range plan.stacks {
		wg.Go(func() {
			if r := e.verified(ctx, v, s, plan.records[s.Name]); r != nil {
				results[i] = *r
			} else {
				drifted.Store(true)
			}
		})
	}
	wg.Wait()
	return results, !drifted.Load()
}

// tlsCurrent reports whether the cluster already serves the lab's current certificate,
// so that ensureTLS would change nothing, here or in the cluster.
func (e *Engine) tlsCurrent(ctx context.Context, kc *kube.Client) bool {
	lab := e.Config.Lab
	dir, err := labca.Dir(lab.Name)
	if err != nil {
		return false
	}
	hosts, err := certHosts(ctx, kc, lab.Domain)
	if err != nil {
		return false
	}
	ca, leaf, ok := labca.Current(dir, lab.Domain, hosts, time.Now())
	if !ok {
		return false
	}
	ok, err = labca.Published(ctx, kc.Kube, ca, leaf)
	return err == nil && ok
}
