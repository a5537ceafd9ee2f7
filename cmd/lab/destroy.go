package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func destroyCmd(g *globals) *cobra.Command {
	opts := engine.DestroyOptions{Timeout: 15 * time.Minute}
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy [FILE]",
		Short: "Uninstall every stack in reverse order, then delete the cluster lab created",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				what := "every stack of lab " + e.Config.Lab.Name
				if e.Provider.Owned() && !opts.KeepCluster {
					what += fmt.Sprintf(" and the %s cluster %q", e.Provider.Kind(), e.Provider.Name())
				}
				if !g.confirm("Destroy "+what+"?", yes) {
					return fmt.Errorf("destroy cancelled")
				}
				var closeView func()
				e.Observer, closeView = g.observer()
				defer closeView()
				rep, err := e.Destroy(cmd.Context(), opts)
				if err != nil {
					return err
				}
				return g.finish(rep, "destroy")
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.BoolVar(&opts.PurgeData, "purge-data", false, "also delete the stacks' data and the lab's data folder")
	f.BoolVar(&opts.Cascade, "cascade", false, "let stacks delete what they manage (Argo CD applications' workloads)")
	f.BoolVar(&opts.KeepCluster, "keep-cluster", false, "uninstall the stacks but keep the cluster")
	f.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "bound on the whole destroy")
	return cmd
}
