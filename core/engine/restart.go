package engine

import (
	"context"
	"fmt"
	"time"
)

// RestartTimeout bounds waiting for the nodes after a start.
var RestartTimeout = 5 * time.Minute

// Restart stops and starts a cluster lab owns, then waits until every node is Ready.
// The caller runs the stacks' health checks after it.
func (e *Engine) Restart(ctx context.Context) error {
	p := e.Provider
	if !p.Owned() {
		return fmt.Errorf("lab does not restart the %s cluster %q it did not create", p.Kind(), p.Name())
	}
	if st, err := p.Status(ctx); err == nil && st.Running { // a stopped cluster holds no lock
		conn, err := p.Connect(ctx)
		if err != nil {
			return err
		}
		var unlock func()
		if ctx, unlock, err = e.lock(ctx, conn); err != nil {
			return err
		}
		defer unlock()
	}
	e.observer().Start("cluster", Action("stop"))
	if err := p.Stop(ctx); err != nil {
		return fmt.Errorf("stop cluster %s: %w", p.Name(), err)
	}
	e.observer().Start("cluster", Action("start"))
	if err := p.Start(ctx); err != nil {
		return fmt.Errorf("start cluster %s: %w", p.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, RestartTimeout)
	defer cancel()
	conn, err := p.Connect(ctx)
	if err != nil {
		return err
	}
	return WaitNodes(ctx, conn)
}
