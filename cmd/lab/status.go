package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func statusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [FILE]",
		Short: "Show the cluster, its nodes and every stack; launches no plugin",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(args), func(e *engine.Engine) error {
				st, err := e.Status(cmd.Context())
				if err != nil {
					return err
				}
				if g.json() {
					return g.printJSON(st)
				}
				printStatus(g, st)
				return nil
			})
		},
	}
}

func printStatus(g *globals, st *engine.LabStatus) {
	c := st.Cluster
	state := map[engine.ClusterAction]string{engine.ReuseCluster: "running", engine.RecreateNeeded: "running, differs from lab.hcl",
		engine.StartCluster: "stopped", engine.CreateCluster: "not created", engine.Unreachable: "unreachable"}[c.Action]
	fmt.Fprintf(g.stdout, "cluster %s %q: %s", c.Provider, c.Name, state)
	if c.Detail != "" {
		fmt.Fprintf(g.stdout, " (%s)", c.Detail)
	}
	fmt.Fprintln(g.stdout)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	if len(st.Nodes) > 0 {
		fmt.Fprintln(tw, "\nNODE\tROLES\tREADY\tVERSION\tCPU\tMEMORY")
		for _, n := range st.Nodes {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\n", n.Name, n.Roles, n.Ready, n.Version, n.CPU, n.Memory)
		}
	}
	fmt.Fprintln(tw, "\nSTACK\tENABLED\tSTATE\tPLUGIN\tUPDATED\tRELEASES")
	for _, s := range st.Stacks {
		updated := "-"
		if !s.UpdatedAt.IsZero() {
			updated = s.UpdatedAt.Local().Format("2006-01-02 15:04")
		}
		var rels []string
		for _, r := range s.Releases {
			rels = append(rels, fmt.Sprintf("%s@%d", r.Name, r.Revision))
		}
		state := s.State
		if s.Error != "" {
			state += ": " + s.Error
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\n", s.Name, s.Enabled, state, or(s.PluginVersion, "-"), updated, or(strings.Join(rels, ","), "-"))
	}
	tw.Flush()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
