package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"
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
			return writeFileAtomic(path, out)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only report whether the file is formatted (exit 1 when not)")
	return cmd
}

// writeFileAtomic replaces a file through a temporary file and a rename, keeping its mode.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lab-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
