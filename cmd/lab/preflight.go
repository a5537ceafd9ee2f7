package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/engine"
)

func preflightCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "preflight [FILE]",
		Short: "Check this machine for the lab's cluster (Docker, memory, CPUs, ports, data folder, disk); changes nothing",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				pf, ok := e.Provider.(cluster.Preflighter)
				if !ok {
					fmt.Fprintf(g.stdout, "the %s provider has no preflight checks\n", e.Provider.Kind())
					return nil
				}
				stacks, err := g.validated(cmd.Context(), e)
				if err != nil {
					return err
				}
				checks := pf.Preflight(cmd.Context(), engine.Footprint(stacks, e.Provider))
				for _, c := range checks {
					mark := "ok  "
					if !c.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(g.stdout, "%s  %-12s %s\n", mark, c.Name, c.Message)
				}
				fmt.Fprintf(g.stdout, "      %-12s %s\n", "footprint", engine.ByStack(stacks, e.Provider))
				if err := cluster.PreflightError(checks); err != nil {
					return fmt.Errorf("preflight failed: fix the checks marked FAIL")
				}
				return nil
			})
		},
	}
}

func restartCmd(g *globals) *cobra.Command {
	var wait = defaultWait
	cmd := &cobra.Command{
		Use:   "restart [FILE]",
		Short: "Stop and start the cluster, wait for the nodes, then run every stack's health checks",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				var closeView func()
				e.Observer, closeView = g.observer()
				defer closeView()
				if err := e.Restart(cmd.Context()); err != nil {
					return err
				}
				results, err := healthUntil(cmd.Context(), e, nil, wait)
				if err != nil {
					return err
				}
				printHealth(g.stdout, results)
				if !allHealthy(results) {
					return fmt.Errorf("the cluster is back but not every stack is healthy")
				}
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", wait, "how long stacks may take to become healthy again")
	return cmd
}
