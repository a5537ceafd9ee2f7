package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/portal"
)

func portalCmd(g *globals) *cobra.Command {
	var noOpen bool
	cmd := &cobra.Command{
		Use:   "ui [FILE]",
		Short: "Serve the lab's portal on 127.0.0.1 (cluster, stacks and their checks live, UIs, logins, plan, hosts, trust) and open it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				if _, err := g.validated(cmd.Context(), e); err != nil {
					return err
				}
				srv := portal.New(&portal.Lab{Engine: e})
				ln, url, err := srv.Listen()
				if err != nil {
					return err
				}
				fmt.Fprintln(g.stdout, url)
				fmt.Fprintln(g.stderr, "lab ui: serving the portal until interrupted (Ctrl-C); the address holds its token")
				if !noOpen {
					_ = browse(url)
				}
				return srv.Serve(cmd.Context(), ln)
			})
		},
	}
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "print the URL without opening a browser")
	return cmd
}
