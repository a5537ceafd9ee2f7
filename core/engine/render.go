package engine

import (
	"context"
	"fmt"

	"github.com/nexolab/lab/core/sdk"
)

// Render returns the chart values a stack would install, secrets masked. It uses the
// cluster when it is running (for generated values) and works without one.
func (e *Engine) Render(ctx context.Context, name string) ([]sdk.RenderedChart, error) {
	stacks, err := e.valid(ctx)
	if err != nil {
		return nil, err
	}
	selected, err := selectStacks(stacks, []string{name})
	if err != nil {
		return nil, err
	}
	s := selected[0]
	if s.NoPlugin {
		return nil, fmt.Errorf("no plugin found for stack %q", name)
	}
	var conn sdk.Cluster
	if st, err := e.Provider.Status(ctx); err == nil && st.Running {
		conn, _ = e.Provider.Connect(ctx)
	}
	p, err := e.Host.Launch(ctx, name)
	if err != nil {
		return nil, err
	}
	return p.Client.Render(ctx, e.request(s, conn))
}
