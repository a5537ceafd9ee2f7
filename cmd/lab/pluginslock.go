package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/pluginhost"
)

// lockFile reads lab.lock.hcl beside the lab file; nil when every plugin is trusted.
func (g *globals) lockFile(labFile string) (*pluginhost.LockFile, error) {
	if g.trustAll {
		return nil, nil
	}
	lf, diags := pluginhost.ReadLockFile(filepath.Join(filepath.Dir(labFile), pluginhost.LockFileName))
	g.printDiags(diags)
	if diags.HasErrors() {
		return nil, invalid(errSilent)
	}
	return lf, nil
}

// lockPlugins records the stacks' plugins in the lock file: those not in it yet, or with
// upgrade all of them. It returns what it did per stack.
func lockPlugins(path string, stacks []*engine.Stack, upgrade bool) (map[string]string, error) {
	lf, diags := pluginhost.ReadLockFile(path)
	if diags.HasErrors() {
		return nil, invalid(fmt.Errorf("%s", diags.Error()))
	}
	did := map[string]string{}
	changed := false
	for _, s := range stacks {
		if s.NoPlugin {
			continue
		}
		now := pluginhost.Locked{Name: s.Name, Version: s.Plugin.Info.Version, SHA256: s.Plugin.SHA256}
		old, ok := lf.Get(s.Name)
		switch {
		case ok && old == now:
			did[s.Name] = "unchanged"
		case ok && !upgrade:
			did[s.Name] = fmt.Sprintf("differs (%s recorded, %s found): run lab plugins lock --upgrade to accept it", old.SHA256, now.SHA256)
		default:
			did[s.Name] = map[bool]string{false: "added", true: "upgraded"}[ok]
			lf.Set(now)
			changed = true
		}
	}
	if !changed {
		return did, nil
	}
	return did, lf.Save()
}

func pluginsLockCmd(g *globals) *cobra.Command {
	var upgrade bool
	cmd := &cobra.Command{
		Use:   "lock [FILE]",
		Short: "Record each enabled stack's plugin version and SHA-256 in lab.lock.hcl beside lab.hcl",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g.trustAll = upgrade
			path := g.path(args)
			return g.withEngine(path, func(e *engine.Engine) error {
				stacks, err := g.validated(cmd.Context(), e)
				if err != nil {
					return err
				}
				lockPath := filepath.Join(filepath.Dir(path), pluginhost.LockFileName)
				did, err := lockPlugins(lockPath, stacks, upgrade)
				if err != nil {
					return err
				}
				if g.json() {
					return g.printJSON(did)
				}
				failed := false
				for _, s := range stacks {
					if d, ok := did[s.Name]; ok {
						fmt.Fprintf(g.stdout, "%s\t%s\t%s\n", s.Name, s.Plugin.Info.Version, d)
						failed = failed || !isLockOK(d)
					}
				}
				return exitIf(failed)
			})
		},
	}
	cmd.Flags().BoolVar(&upgrade, "upgrade", false, "accept the plugins found now, also where they differ from the lock file")
	return cmd
}

func isLockOK(did string) bool { return did == "added" || did == "upgraded" || did == "unchanged" }

// recordPlugins adds the plugins an apply used to the lock file when they are not in it
// yet, so the first apply pins them; it never changes an entry.
func (g *globals) recordPlugins(labFile string, plan *engine.Plan) error {
	_, err := lockPlugins(filepath.Join(filepath.Dir(labFile), pluginhost.LockFileName), plan.Stacks(), false)
	return err
}
