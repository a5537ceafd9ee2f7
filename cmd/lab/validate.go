package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func validateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check lab.hcl against every stack plugin's schema; touches nothing",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				stacks, err := g.validated(cmd.Context(), e)
				if err != nil {
					return err
				}
				n := 0
				for _, s := range stacks {
					if !s.NoPlugin {
						n++
					}
				}
				fmt.Fprintf(g.stdout, "%s is valid: %d stacks enabled, %d with a plugin\n", e.Config.Path, len(stacks), n)
				return nil
			})
		},
	}
}
