package main

import "github.com/spf13/cobra"

// writers are the commands that change the lab and so take its lock.
var writers = map[string]bool{"apply": true, "destroy": true, "restore": true, "restart": true}

// lockFlags gives each writer --lock-timeout and names it in the lock it takes.
func lockFlags(root *cobra.Command, g *globals) {
	for _, c := range root.Commands() {
		if !writers[c.Name()] {
			continue
		}
		c.Flags().DurationVar(&g.lock.Wait, "lock-timeout", 0,
			"wait this long for another apply, destroy, restore or restart of the lab to finish (0: fail at once)")
		name := c.Name()
		c.PreRun = func(*cobra.Command, []string) { g.lock.Command = "lab " + name }
	}
}
