package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/plugins/nexo-apps/gitops"
)

// gitopsCmd is `lab gitops init DIR`: the repository layout the nexo-apps stack's Argo CD
// Applications sync from (charts, per-environment values, CI).
func gitopsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "gitops", Short: "Start the Git repository Argo CD delivers the Nexo applications from"}
	var o gitops.Options
	var domain string
	initCmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Write apps/nexo-fe, apps/nexo-be, apps/nexo-auth, local/helm and a CI workflow into DIR",
		Long: "Writes the charts of the nexo-apps stack with one values file per environment (values-<slot>.yaml,\n" +
			"develop's slot being local), PostgreSQL's and Redis's charts under local/helm, and a CI workflow that\n" +
			"tests, builds, pushes to Harbor with the robot account and commits the new image tag.\n" +
			"The domain comes from lab.hcl when it exists; --environments should match the nexo-apps block.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.Domain = domain
			if o.Domain == "" {
				o.Domain = "nexo.local"
				if _, err := os.Stat(g.path(nil)); err == nil {
					cfg, err := g.load(g.path(nil))
					if err != nil {
						return err
					}
					o.Domain = cfg.Lab.Domain
				}
			}
			wrote, err := gitops.Write(args[0], o)
			if err != nil {
				return invalid(err)
			}
			for _, p := range wrote {
				fmt.Fprintln(g.stdout, p)
			}
			fmt.Fprintf(g.stderr, "%d files written under %s for %s\n", len(wrote), args[0], o.Domain)
			return nil
		},
	}
	f := initCmd.Flags()
	f.StringVar(&domain, "domain", "", "the lab's domain (default: lab.hcl's, else nexo.local)")
	f.StringSliceVar(&o.Environments, "environments", []string{"develop", "qa", "staging", "prod"}, "environments, as in the nexo-apps block")
	f.StringVar(&o.Registry, "registry", "", "registry and project of the images (default harbor.<domain>/nexo)")
	f.StringVar(&o.Tag, "tag", "latest", "the images' first tag")
	f.BoolVar(&o.Force, "force", false, "replace files that exist with other content")
	cmd.AddCommand(initCmd)
	return cmd
}
