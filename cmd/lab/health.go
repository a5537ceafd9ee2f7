package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/sdk"
)

func healthCmd(g *globals) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "health [STACK...]",
		Short: "Run each stack's health checks; exit 0 only when every stack is healthy",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				results, err := healthUntil(cmd.Context(), e, args, wait)
				if err != nil {
					return err
				}
				healthy := allHealthy(results)
				if g.json() {
					_ = g.printJSON(results)
				} else {
					printHealth(g.stdout, results)
				}
				return exitIf(!healthy)
			})
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "repeat the checks until healthy or this long has passed (e.g. 5m)")
	return cmd
}

// defaultWait is how long restart waits for stacks to become healthy.
const defaultWait = 5 * time.Minute

// healthUntil runs the checks, and with wait > 0 repeats them until all are healthy.
func healthUntil(ctx context.Context, e *engine.Engine, names []string, wait time.Duration) ([]engine.StackHealth, error) {
	deadline := time.Now().Add(wait)
	for {
		results, err := e.Health(ctx, names)
		if err != nil || allHealthy(results) || time.Now().After(deadline) {
			return results, err
		}
		select {
		case <-ctx.Done():
			return results, nil
		case <-time.After(2 * time.Second):
		}
	}
}

func allHealthy(results []engine.StackHealth) bool {
	for _, r := range results {
		if r.Status() != sdk.Healthy {
			return false
		}
	}
	return true
}

func printHealth(w io.Writer, results []engine.StackHealth) {
	for _, r := range results {
		fmt.Fprintf(w, "%-12s %s\n", r.Stack, r.Status())
		if r.Err != nil {
			fmt.Fprintf(w, "  %-10s %v\n", "error", r.Err)
			continue
		}
		for _, c := range r.Health.Checks {
			fmt.Fprintf(w, "  %-10s %-28s %s\n", c.Status, c.Name, c.Message)
		}
		for _, ep := range r.Health.Endpoints {
			fmt.Fprintf(w, "  %-10s %-28s %s\n", "url", ep.Name, ep.URL)
		}
	}
}
