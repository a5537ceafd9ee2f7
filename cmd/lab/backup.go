package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
)

func backupCmd(g *globals) *cobra.Command {
	var dest string
	cmd := &cobra.Command{
		Use:   "backup [STACK...]",
		Short: "Write the data of every (or the named) installed stack into one archive",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				if dest == "" {
					dest = fmt.Sprintf("lab-%s-%s.tar.gz", e.Config.Lab.Name, time.Now().Format("20060102-150405"))
				}
				var closeView func()
				e.Observer, closeView = g.observer()
				defer closeView()
				rep, err := e.Backup(cmd.Context(), args, dest)
				if err != nil {
					return err
				}
				if err := g.finish(rep, "backup"); err != nil {
					return err
				}
				if !g.json() {
					fmt.Fprintf(g.stdout, "archive: %s (mode 0600: it holds secrets)\n", dest)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dest, "to", "", "archive to write (default lab-<name>-<time>.tar.gz)")
	return cmd
}

func restoreCmd(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "restore ARCHIVE [STACK...]",
		Short: "Check an archive's checksums, then give the stacks their data back",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(g.path(nil), func(e *engine.Engine) error {
				if !g.confirm("Restore "+args[0]+" over the lab's current data?", yes) {
					return fmt.Errorf("restore cancelled")
				}
				var closeView func()
				e.Observer, closeView = g.observer()
				defer closeView()
				rep, err := e.Restore(cmd.Context(), args[0], args[1:])
				if err != nil {
					return err
				}
				return g.finish(rep, "restore")
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
