package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func planCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "plan [FILE]",
		Short: "Show what apply would do to the cluster and each stack",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				plan, diags, err := e.Plan(cmd.Context())
				g.printDiags(diags)
				if diags.HasErrors() {
					return invalid(errSilent)
				}
				if err != nil {
					return err
				}
				g.printPlan(plan)
				if plan.Cluster.Action == engine.Unreachable {
					return fmt.Errorf("apply cannot run until the cluster is reachable: %s", plan.Cluster.Detail)
				}
				return nil
			})
		},
	}
}

func (g *globals) printPlan(p *engine.Plan) {
	if g.json() {
		_ = g.printJSON(p)
		return
	}
	c := p.Cluster
	fmt.Fprintf(g.stdout, "cluster %s %q: %s", c.Provider, c.Name, c.Action)
	if c.Detail != "" {
		fmt.Fprintf(g.stdout, " (%s)", c.Detail)
	}
	fmt.Fprintln(g.stdout)
	for _, d := range c.Differences {
		fmt.Fprintf(g.stdout, "  differs: %s\n", d)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tACTION\tWAVE\tREASON")
	counts := map[engine.Action]int{}
	for _, ch := range p.Changes {
		wave := fmt.Sprint(ch.Wave + 1)
		if ch.Action == engine.Uninstall {
			wave = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ch.Stack, ch.Action, wave, ch.Reason)
		counts[ch.Action]++
	}
	tw.Flush()
	var parts []string
	for _, a := range []engine.Action{engine.Install, engine.Upgrade, engine.Unchanged, engine.Uninstall, engine.Skip} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	fmt.Fprintf(g.stdout, "Plan: %s.\n", strings.Join(parts, ", "))
}
