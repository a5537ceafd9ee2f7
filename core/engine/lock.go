package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/lock"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// LockOptions say how a writer (apply, destroy, restore, restart) takes the lab's lock.
type LockOptions struct {
	// Command names what the holder runs, for the message another writer gets.
	Command string
	// Wait is how long to wait for another writer's lock; 0 fails at once.
	Wait time.Duration
}

var errLockLost = errors.New("another writer took the lab lock over")

// lockVersion keys the context of a held lock to the resource version it was taken at.
type lockVersion struct{}

// lock takes the lab's lock in the cluster of conn. The returned context ends when the
// lock is lost; release frees it.
func (e *Engine) lock(ctx context.Context, conn sdk.Cluster) (context.Context, func(), error) {
	kc, err := kube.Connect(conn, e.log())
	if err != nil {
		return nil, nil, err
	}
	if err := state.New(kc.Kube).EnsureNamespace(ctx); err != nil {
		return nil, nil, err
	}
	cmd := e.Lock.Command
	if cmd == "" {
		cmd = "lab"
	}
	l, err := lock.Acquire(ctx, kc.Kube, state.Namespace, lock.Self(cmd), e.Lock.Wait, func(h lock.Holder) {
		e.log().Warn("waiting for the lab lock", "holder", h.String(), "up to", e.Lock.Wait)
	})
	if err != nil {
		return nil, nil, err
	}
	e.log().Debug("took the lab lock", "command", cmd, "version", l.Version())
	ctx, cancel := context.WithCancelCause(context.WithValue(ctx, lockVersion{}, l.Version()))
	go func() {
		select {
		case <-l.Lost():
			cancel(errLockLost)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { l.Release(); cancel(nil) }, nil
}

// replan reads the records again under the lock: another writer may have changed them
// since the plan was made.
func (e *Engine) replan(ctx context.Context, plan *Plan, kc *kube.Client) error {
	v, _ := ctx.Value(lockVersion{}).(string)
	records, err := state.New(kc.Kube).ListAt(ctx, v)
	if err != nil {
		return err
	}
	plan.records = records
	plan.Changes, err = changes(plan.stacks, records)
	return err
}

// Stacks are the enabled stacks the plan was made for.
func (p *Plan) Stacks() []*Stack { return p.stacks }

// whenFree runs fn once a place in sem is free; after an interrupt it starts nothing and
// reports the stack as skipped.
func (e *Engine) whenFree(ctx context.Context, sem chan struct{}, s *Stack, fn func() *StackResult) *StackResult {
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		r := StackResult{Stack: s.Name, Action: Skip, Outcome: Skipped, Err: fmt.Errorf("%w before it started", ErrInterrupted)}
		e.observer().Done(r)
		return &r
	}
	return fn()
}
