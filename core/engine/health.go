package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// StackHealth is one stack's health.
type StackHealth struct {
	Stack  string
	Health *sdk.Health
	Err    error
}

// Status is the stack's overall status; an error makes it unhealthy.
func (h StackHealth) Status() sdk.Status {
	if h.Err != nil || h.Health == nil {
		return sdk.Unhealthy
	}
	return h.Health.Status()
}

// MarshalJSON is the form of `lab health -o json` and of troubleshoot archives.
func (h StackHealth) MarshalJSON() ([]byte, error) {
	out := struct {
		Stack     string         `json:"stack"`
		Status    sdk.Status     `json:"status"`
		Error     string         `json:"error,omitempty"`
		Checks    []sdk.Check    `json:"checks"`
		Endpoints []sdk.Endpoint `json:"endpoints,omitempty"`
	}{Stack: h.Stack, Status: h.Status(), Checks: []sdk.Check{}}
	if h.Err != nil {
		out.Error = h.Err.Error()
	}
	if h.Health != nil {
		out.Checks = append(out.Checks, h.Health.Checks...)
		out.Endpoints = h.Health.Endpoints
	}
	return json.Marshal(out)
}

// HealthTimeout bounds one stack's health checks.
var HealthTimeout = time.Minute

// Health runs the checks of the named stacks (every enabled one when none is named).
func (e *Engine) Health(ctx context.Context, names []string) ([]StackHealth, error) {
	stacks, err := e.valid(ctx)
	if err != nil {
		return nil, err
	}
	selected, err := selectStacks(stacks, names)
	if err != nil {
		return nil, err
	}
	conn, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	records, err := e.records(ctx, conn)
	if err != nil {
		return nil, err
	}
	out := make([]StackHealth, len(selected))
	var wg sync.WaitGroup
	for i, s := range selected {
		wg.Go(func() { out[i] = e.health(ctx, s, conn, records) })
	}
	wg.Wait()
	return out, nil
}

func (e *Engine) health(ctx context.Context, s *Stack, conn sdk.Cluster, records map[string]state.Record) StackHealth {
	h := StackHealth{Stack: s.Name}
	switch r, ok := records[s.Name]; {
	case s.NoPlugin:
		h.Err = fmt.Errorf("no plugin found")
		return h
	case !ok:
		h.Err = fmt.Errorf("not installed: run lab apply")
		return h
	case r.Status != state.Installed:
		h.Err = fmt.Errorf("last apply failed: %s", r.Error)
		return h
	}
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	p, err := e.Host.Launch(ctx, s.Name)
	if err != nil {
		h.Err = err
		return h
	}
	h.Health, h.Err = p.Client.Health(ctx, e.request(s, conn))
	return h
}

func selectStacks(stacks []*Stack, names []string) ([]*Stack, error) {
	if len(names) == 0 {
		return stacks, nil
	}
	byName := map[string]*Stack{}
	for _, s := range stacks {
		byName[s.Name] = s
	}
	var out []*Stack
	for _, n := range names {
		s := byName[n]
		if s == nil {
			return nil, fmt.Errorf("stack %q is not enabled in lab.hcl", n)
		}
		out = append(out, s)
	}
	return out, nil
}
