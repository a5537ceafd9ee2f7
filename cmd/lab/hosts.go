package main

import (
	"context"
	"fmt"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/hosts"
)

// showNoBlock says that the hosts file has no block of the lab and shows what sync would
// write; it needs the cluster to list the lab's hosts, and says so when it cannot.
func (g *globals) showNoBlock(ctx context.Context, e *engine.Engine, file, ip string) error {
	lab := e.Config.Lab.Name
	if g.json() {
		fmt.Fprintf(g.stderr, "%s has no block of lab %s.\n", file, lab)
		return g.printJSON([]hosts.Entry{})
	}
	fmt.Fprintf(g.stdout, "%s has no block of lab %s.\n", file, lab)
	entries, err := e.HostEntries(ctx, ip)
	if err != nil {
		fmt.Fprintf(g.stdout, "lab hosts sync would list the lab's hosts, but cannot now: %v\n", err)
		return nil
	}
	fmt.Fprintf(g.stdout, "lab hosts sync would write:\n%s", hosts.Block(lab, entries))
	return nil
}
