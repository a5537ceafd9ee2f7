package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/engine"
)

// completeNames makes `lab completion bash|zsh|fish` (cobra's) complete the stacks of
// lab.hcl for the commands that take stacks, and the UIs for lab open.
func completeNames(root *cobra.Command, g *globals) {
	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "health", "credentials", "backup", "render":
			cmd.ValidArgsFunction = g.completeStacks
		case "open":
			cmd.ValidArgsFunction = g.completeUIs
		}
	}
}

// completeStacks reads the stack blocks of lab.hcl; it launches no plugin.
func (g *globals) completeStacks(_ *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, diags := config.Load(g.path(nil), config.Options{})
	if diags.HasErrors() {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, s := range cfg.Stacks {
		if strings.HasPrefix(s.Name, prefix) && !contains(args, s.Name) {
			out = append(out, s.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeUIs are the dashboards of the enabled stacks, from the plugins' cached Info.
func (g *globals) completeUIs(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	_ = g.withEngine(g.path(nil), func(e *engine.Engine) error {
		dash, err := e.Dashboards(cmd.Context())
		for ui := range dash {
			if strings.HasPrefix(ui, prefix) {
				out = append(out, ui)
			}
		}
		return err
	})
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}
