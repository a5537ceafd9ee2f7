package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"

	"github.com/nexolab/lab/core/kube"
)

func credentialsCmd(g *globals) *cobra.Command {
	var show bool
	cmd := &cobra.Command{
		Use:   "credentials [STACK...]",
		Short: "Print each UI's URL and user; the passwords only with --show-secrets",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				conn, err := e.Provider.Connect(cmd.Context())
				if err != nil {
					return err
				}
				c, err := kube.Connect(conn, nil)
				if err != nil {
					return err
				}
				all, err := c.Credentials(cmd.Context())
				if err != nil {
					return err
				}
				creds := all[:0]
				for _, cr := range all {
					if len(args) == 0 || contains(args, cr.Stack) {
						if !show {
							cr.Password = ""
						}
						creds = append(creds, cr)
					}
				}
				if g.json() {
					return g.printJSON(creds)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "UI\tSTACK\tURL\tUSER\tPASSWORD")
				for _, cr := range creds {
					pw := cr.Password
					if !show {
						pw = fmt.Sprintf("(secret %s/%s; --show-secrets)", cr.Namespace, cr.Secret)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cr.UI, cr.Stack, cr.URL, cr.Username, pw)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				printLogins(g, creds)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&show, "show-secrets", false, "print the passwords")
	return cmd
}

// printLogins prints the shell logins some credentials carry (a registry's docker login).
func printLogins(g *globals, creds []kube.Credential) {
	for _, cr := range creds {
		if cr.Login != "" {
			fmt.Fprintf(g.stdout, "%s: %s\n", cr.UI, cr.Login)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
