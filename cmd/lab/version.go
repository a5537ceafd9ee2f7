package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
)

// version is set at release builds (-ldflags "-X main.version=v1.2.3"); otherwise the
// module version or the VCS revision the binary was built from.
var version = ""

func labVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel+" + rev + dirty
}

func versionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of lab, its plugin protocol and each plugin found",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host := pluginhost.New(pluginhost.Options{CacheFile: pluginhost.DefaultCacheFile(), Logger: g.logger()})
			defer host.Close()
			type plugin struct {
				Name     string `json:"name"`
				Version  string `json:"version,omitempty"`
				Protocol int    `json:"protocol,omitempty"`
				Error    string `json:"error,omitempty"`
			}
			out := struct {
				Lab      string   `json:"lab"`
				Go       string   `json:"go"`
				Protocol int      `json:"protocol"`
				Plugins  []plugin `json:"plugins"`
			}{Lab: labVersion(), Go: runtime.Version(), Protocol: sdk.ProtocolVersion, Plugins: []plugin{}}
			for _, name := range pluginhost.Names(host.Found()) {
				d, err := host.Describe(cmd.Context(), name)
				p := plugin{Name: name, Version: d.Info.Version, Protocol: d.Info.Protocol}
				if err != nil {
					p.Error = err.Error()
				}
				out.Plugins = append(out.Plugins, p)
			}
			_ = host.SaveCache()
			if g.json() {
				return g.printJSON(out)
			}
			fmt.Fprintf(g.stdout, "lab %s (%s), plugin protocol %d\n", out.Lab, out.Go, out.Protocol)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			for _, p := range out.Plugins {
				if p.Error != "" {
					fmt.Fprintf(tw, "  %s\t-\t%s\n", p.Name, p.Error)
					continue
				}
				fmt.Fprintf(tw, "  %s\t%s\tprotocol %d\n", p.Name, p.Version, p.Protocol)
			}
			return tw.Flush()
		},
	}
}
