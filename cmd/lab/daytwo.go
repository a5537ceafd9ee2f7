package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/hosts"
)

func hostsCmd(g *globals) *cobra.Command {
	var file, ip string
	cmd := &cobra.Command{
		Use:       "hosts sync|show|remove",
		Short:     "Manage the lab's block of /etc/hosts: every ingress host of the lab at 127.0.0.1",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"sync", "show", "remove"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				lab := e.Config.Lab.Name
				switch args[0] {
				case "show":
					entries, found, err := hosts.Show(file, lab)
					if err != nil {
						return err
					}
					if !found {
						return g.showNoBlock(cmd.Context(), e, file, ip)
					}
					if g.json() {
						return g.printJSON(entries)
					}
					for _, en := range entries {
						fmt.Fprintf(g.stdout, "%s\t%s\n", en.IP, en.Host)
					}
					return nil
				case "sync":
					entries, err := e.HostEntries(cmd.Context(), ip)
					if err != nil {
						return err
					}
					changed, err := hosts.Sync(file, lab, entries)
					return g.reportHosts(file, changed, err, fmt.Sprintf("%d hosts", len(entries)))
				case "remove":
					changed, err := hosts.Remove(file, lab)
					return g.reportHosts(file, changed, err, "block removed")
				}
				return invalid(fmt.Errorf("hosts %s: want sync, show or remove", args[0]))
			})
		},
	}
	cmd.Flags().StringVar(&file, "hosts-file", hosts.DefaultFile, "the hosts file to manage")
	cmd.Flags().StringVar(&ip, "ip", "127.0.0.1", "address the lab's hosts point at (k3d publishes 80/443 on localhost)")
	return cmd
}

func (g *globals) reportHosts(file string, changed bool, err error, what string) error {
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(g.stdout, "%s: %s\n", file, what)
	} else {
		fmt.Fprintf(g.stdout, "%s: already up to date\n", file)
	}
	return nil
}

func openCmd(g *globals) *cobra.Command {
	var print bool
	cmd := &cobra.Command{
		Use:   "open [UI]",
		Short: "Open a dashboard of the lab in the browser (argocd, grafana, prometheus, ...); no UI lists them",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				dash, err := e.Dashboards(cmd.Context())
				if err != nil {
					return err
				}
				if len(args) == 0 {
					names := make([]string, 0, len(dash))
					for n := range dash {
						names = append(names, n)
					}
					sort.Strings(names)
					for _, n := range names {
						fmt.Fprintf(g.stdout, "%-14s %s\n", n, dash[n])
					}
					return nil
				}
				url, ok := dash[args[0]]
				if !ok {
					return invalid(fmt.Errorf("no dashboard %q in this lab; `lab open` lists them", args[0]))
				}
				if print || browse(url) != nil {
					fmt.Fprintln(g.stdout, url)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&print, "print", false, "print the URL instead of opening it")
	return cmd
}

// browse opens a URL with the desktop's opener.
func browse(url string) error {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	return exec.Command(opener, url).Start()
}

func logsCmd(g *globals) *cobra.Command {
	var opts engine.LogOptions
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the logs of the pods named NAME (or labelled app.kubernetes.io/name=NAME)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				return e.Logs(cmd.Context(), args[0], opts, g.stdout)
			})
		},
	}
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "", "namespace (default: all)")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "F", false, "keep streaming")
	cmd.Flags().Int64Var(&opts.Tail, "tail", 100, "lines from the end of each log (0: all)")
	return cmd
}

func topCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "top",
		Short: "Show the nodes' CPU and memory use and each lab namespace against its quota",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				rep, err := e.Top(cmd.Context())
				if err != nil {
					return err
				}
				if g.json() {
					return g.printJSON(rep)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NODE\tCPU\tMEMORY")
				for _, n := range rep.Nodes {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Name, n.CPU, n.Memory)
				}
				if rep.NodesDetail != "" {
					fmt.Fprintf(tw, "(%s)\n", rep.NodesDetail)
				}
				fmt.Fprintln(tw, "\nNAMESPACE\tCPU REQUESTS\tCPU LIMITS\tMEMORY REQUESTS\tMEMORY LIMITS")
				for _, q := range rep.Quotas {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.Name, q.CPURequests, q.CPULimits, q.MemoryRequests, q.MemoryLimits)
				}
				return tw.Flush()
			})
		},
	}
}

func troubleshootCmd(g *globals) *cobra.Command {
	var dest string
	cmd := &cobra.Command{
		Use:   "troubleshoot",
		Short: "Collect plan, status, health, warning events and unready pods' logs into one archive",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				if dest == "" {
					dest = fmt.Sprintf("lab-%s-troubleshoot-%s.tar.gz", e.Config.Lab.Name, time.Now().Format("20060102-150405"))
				}
				if err := e.Troubleshoot(cmd.Context(), dest); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "diagnostics: %s\n", dest)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dest, "to", "", "archive to write")
	return cmd
}
