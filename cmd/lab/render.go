package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func renderCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "render STACK",
		Short: "Print the Helm values a stack would install, per chart, secrets masked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				charts, err := e.Render(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if g.json() {
					return g.printJSON(charts)
				}
				for i, c := range charts {
					if i > 0 {
						fmt.Fprintln(g.stdout, "---")
					}
					fmt.Fprintf(g.stdout, "# release %s in namespace %s: chart %s %s from %s\n%s",
						c.Release, c.Namespace, c.Chart, c.Version, c.Repository, c.ValuesYAML)
				}
				return nil
			})
		},
	}
}
