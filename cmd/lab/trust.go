package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/trust"
)

// trustReport is what lab trust did and what the handshake showed.
type trustReport struct {
	CA          string       `json:"ca"`
	Fingerprint string       `json:"sha256"`
	Steps       []trust.Step `json:"steps"`
	Host        string       `json:"verified_host"`
	Trusted     bool         `json:"trusted"`
	Detail      string       `json:"detail,omitempty"`
}

func trustCmd(g *globals) *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "trust [FILE]",
		Short: "Trust the lab CA in the system store and the browsers' NSS databases, then verify it; --remove undoes exactly that",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load(g.path(args))
			if err != nil {
				return err
			}
			rep, err := runTrust(cmd.Context(), cfg, remove)
			if err != nil {
				return err
			}
			if g.json() {
				err = g.printJSON(rep)
			} else {
				printTrust(g, rep, remove)
			}
			if err == nil && rep.Trusted == remove {
				return errSilent
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "take the lab CA out of every store lab trust put it in")
	return cmd
}

// runTrust installs or removes the lab CA (made now if apply has not yet), then does a TLS
// handshake with a lab certificate against the system's roots.
func runTrust(ctx context.Context, cfg *config.Config, remove bool) (*trustReport, error) {
	dir, err := labca.Dir(cfg.Lab.Name)
	if err != nil {
		return nil, err
	}
	ca, _, err := labca.Ensure(dir, cfg.Lab.Name, cfg.Lab.Domain, time.Now())
	if err != nil {
		return nil, err
	}
	leaf, _, err := ca.Leaf(labca.Hosts(cfg.Lab.Domain), time.Now())
	if err != nil {
		return nil, err
	}
	o := trust.Options{Lab: cfg.Lab.Name}
	rep := &trustReport{CA: dir + "/" + labca.CACertFile, Fingerprint: labca.Fingerprint(ca.Cert), Host: "trust-check." + cfg.Lab.Domain}
	if remove {
		rep.Steps, err = trust.Remove(ctx, o)
	} else {
		rep.Steps, err = trust.Install(ctx, o, ca.PEM)
	}
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		return nil, err
	}
	if err := trust.Verify(ctx, pair, rep.Host); err != nil {
		rep.Detail = err.Error()
	} else {
		rep.Trusted = true
	}
	return rep, nil
}

func printTrust(g *globals, rep *trustReport, remove bool) {
	fmt.Fprintf(g.stdout, "lab CA %s\n  SHA-256 %s\n", rep.CA, rep.Fingerprint)
	for _, s := range rep.Steps {
		fmt.Fprintf(g.stdout, "  %-40s %s\n", s.Store, s.Action)
	}
	switch {
	case rep.Trusted && !remove:
		fmt.Fprintf(g.stdout, "verified: a TLS handshake to %s succeeds with the system's trusted roots\n", rep.Host)
	case !rep.Trusted && remove:
		fmt.Fprintf(g.stdout, "verified: the system's trusted roots no longer accept %s (%s)\n", rep.Host, rep.Detail)
	case remove:
		fmt.Fprintf(g.stderr, "error: the lab CA is still trusted by the system after removal (another copy of it is installed)\n")
	default:
		fmt.Fprintf(g.stderr, "error: the handshake to %s still fails: %s\n", rep.Host, rep.Detail)
	}
}
