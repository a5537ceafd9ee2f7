package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func applyCmd(g *globals) *cobra.Command {
	var opts engine.ApplyOptions
	var yes bool
	cmd := &cobra.Command{
		Use:   "apply [FILE]",
		Short: "Create the cluster and install the enabled stacks in dependency order",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				ctx := cmd.Context()
				plan, diags, err := e.Plan(ctx)
				g.printDiags(diags)
				if diags.HasErrors() {
					return invalid(errSilent)
				}
				if err != nil {
					return err
				}
				destructive := plan.Needs(engine.Uninstall) || (opts.Recreate && plan.Cluster.Action == engine.RecreateNeeded)
				if destructive && !g.json() {
					g.printPlan(plan)
					if !g.confirm("This apply removes what is listed above. Go on?", yes) {
						return fmt.Errorf("apply cancelled")
					}
				}
				var closeView func()
				e.Observer, closeView = g.observer()
				defer closeView()
				rep, err := e.ApplyPlan(ctx, plan, opts)
				if err != nil {
					return err
				}
				if err := g.recordPlugins(g.path(args), plan); err != nil {
					return err
				}
				return g.finish(rep, "apply")
			})
		},
	}
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "run every stack's install even when nothing changed, to repair drift beyond its releases")
	cmd.Flags().BoolVar(&opts.Recreate, "recreate", false, "delete and re-create a cluster that differs from lab.hcl")
	cmd.Flags().BoolVar(&opts.Retain, "retain", false, "keep what a failed cluster create made")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before removing stacks")
	return cmd
}

// finish prints the outcome of a report and fails when a stack failed.
func (g *globals) finish(rep *engine.Report, what string) error {
	failed := rep.Failed()
	if g.json() {
		return exitIf(len(failed) > 0)
	}
	ok, skipped := 0, 0
	for _, r := range rep.Results {
		switch r.Outcome {
		case engine.OK:
			ok++
		case engine.Skipped:
			skipped++
		}
	}
	fmt.Fprintf(g.stdout, "%s: %d ok, %d failed, %d skipped\n", what, ok, len(failed), skipped)
	if len(failed) > 0 {
		return fmt.Errorf("%s failed for: %s", what, strings.Join(failed, ", "))
	}
	return nil
}

func exitIf(failed bool) error {
	if failed {
		return errSilent
	}
	return nil
}
