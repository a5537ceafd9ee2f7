package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func validateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check lab.hcl against every stack plugin's schema; touches nothing",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, done, err := g.engine(g.path(args))
			if err != nil {
				return err
			}
			defer done()
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
		},
	}
}
