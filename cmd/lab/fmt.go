package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/atomicfile"
)

func fmtCmd(g *globals) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [FILE]",
		Short: "Rewrite lab.hcl in canonical format",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := g.path(args)
			src, err := os.ReadFile(path)
			if err != nil {
				return invalid(err)
			}
			if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
				g.printDiags(diags)
				return invalid(errSilent)
			}
			out := hclwrite.Format(src)
			if bytes.Equal(src, out) {
				return nil
			}
			if check {
				fmt.Fprintf(g.stdout, "%s is not formatted\n", path)
				return errSilent
			}
			fmt.Fprintln(g.stdout, path)
			mode := os.FileMode(0o644)
			if st, err := os.Stat(path); err == nil {
				mode = st.Mode().Perm()
			}
			return atomicfile.Write(path, out, mode)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only report whether the file is formatted (exit 1 when not)")
	return cmd
}
