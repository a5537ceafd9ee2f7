// Command lab builds a complete local cloud lab from one file: lab apply lab.hcl.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/process"
)

// Exit codes: 0 success, 1 a command that ran and failed (a stack failed, unhealthy),
// 2 bad input (flags, lab.hcl).
const (
	exitFailed  = 1
	exitInvalid = 2
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error { return &exitError{code: exitInvalid, err: err} }

// errSilent fails a command whose output already said why.
var errSilent = errors.New("")

func main() {
	process.DropInitPages()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }() // the first signal winds down; a second ends lab at once
	root := newRoot()
	root.SetArgs(terraformStyle(os.Args[1:]))
	err := root.ExecuteContext(ctx)
	stop()
	if err == nil {
		return
	}
	code := exitFailed
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if err.Error() != "" {
		fmt.Fprintln(os.Stderr, "Error:", err)
	}
	os.Exit(code)
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "lab",
		Short:         "Build and run a complete local cloud lab from lab.hcl",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalid(err) })
	g.bind(root)
	root.AddCommand(
		validateCmd(g), planCmd(g), applyCmd(g), healthCmd(g), renderCmd(g),
		destroyCmd(g), pluginsCmd(g), fmtCmd(g), backupCmd(g), restoreCmd(g), credentialsCmd(g),
		statusCmd(g), preflightCmd(g), restartCmd(g), hostsCmd(g), openCmd(g), logsCmd(g), topCmd(g),
		troubleshootCmd(g),
	)
	// trusted HTTPS, the portal, completion, version
	root.AddCommand(trustCmd(g), portalCmd(g), versionCmd(g))
	completeNames(root, g)
	root.AddCommand(gitopsCmd(g))
	lockFlags(root, g)
	return root
}

// terraformStyle accepts -var and -var-file written with one dash, as users of HCL tools
// type them.
func terraformStyle(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-var" || strings.HasPrefix(a, "-var=") {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}
