package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
)

func pluginsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List the stack plugins found: name, version, protocol, path",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host := pluginhost.New(pluginhost.Options{CacheFile: pluginhost.DefaultCacheFile(), Logger: g.logger()})
			defer host.Close()
			type row struct {
				Name        string          `json:"name"`
				Version     string          `json:"version"`
				Protocol    int             `json:"protocol"`
				Path        string          `json:"path"`
				Description string          `json:"description,omitempty"`
				DependsOn   []string        `json:"dependsOn,omitempty"`
				Schema      []sdk.Attribute `json:"schema,omitempty"`
				Error       string          `json:"error,omitempty"`
			}
			var rows []row
			for _, name := range pluginhost.Names(host.Found()) {
				d, err := host.Describe(cmd.Context(), name)
				r := row{Name: name, Path: host.Found()[name], Version: d.Info.Version,
					Protocol: d.Info.Protocol, Description: d.Info.Description, DependsOn: d.Info.DependsOn, Schema: d.Schema}
				if err != nil {
					r.Error = err.Error()
				}
				rows = append(rows, r)
			}
			_ = host.SaveCache()
			if g.json() {
				return g.printJSON(rows)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tPROTOCOL\tPATH")
			for _, r := range rows {
				if r.Error != "" {
					fmt.Fprintf(tw, "%s\t-\t-\t%s (%s)\n", r.Name, r.Path, r.Error)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Name, r.Version, r.Protocol, r.Path)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(pluginsLockCmd(g))
	return cmd
}
