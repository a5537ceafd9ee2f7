package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nexolab/lab/core/cluster/providers"
	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/pluginhost"
)

// globals are the flags every command takes.
type globals struct {
	file        string
	vars        []string
	output      string
	logLevel    string
	parallelism int
	lock        engine.LockOptions // writers only (lock.go)
	trustAll    bool               // lab plugins lock --upgrade: no lock file check (pluginslock.go)
	stdout      io.Writer
	stderr      io.Writer
}

func (g *globals) bind(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVarP(&g.file, "file", "f", "", "lab file (default ./lab.hcl)")
	f.StringArrayVar(&g.vars, "var", nil, "set a variable: name=value (repeatable)")
	f.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&g.logLevel, "log-level", envOr("LAB_LOG", "warn"), "log level: trace, debug, info, warn, error ($LAB_LOG)")
	f.IntVar(&g.parallelism, "parallelism", 4, "stacks worked on at once")
	g.stdout, g.stderr = os.Stdout, os.Stderr
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func (g *globals) json() bool { return g.output == "json" }

// path returns the lab file: the positional argument, -f, or ./lab.hcl.
func (g *globals) path(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	if g.file != "" {
		return g.file
	}
	return config.DefaultFile
}

func (g *globals) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "lab", Level: hclog.LevelFromString(g.logLevel), Output: g.stderr})
}

// load parses lab.hcl; diagnostics are printed, errors make it fail with exit code 2.
func (g *globals) load(path string) (*config.Config, error) {
	vars := map[string]string{}
	for _, kv := range g.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, invalid(fmt.Errorf("-var %q: want name=value", kv))
		}
		vars[k] = v
	}
	if _, err := os.Stat(path); err != nil {
		return nil, invalid(fmt.Errorf("%s: %w", path, unwrapPathError(err)))
	}
	cfg, diags := config.Load(path, config.Options{Vars: vars})
	g.printDiags(diags)
	if diags.HasErrors() {
		return nil, invalid(errSilent)
	}
	return cfg, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (g *globals) printDiags(diags hcl.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintln(g.stderr, config.Line(d))
	}
}

// engine builds the engine for a lab file.
func (g *globals) engine(path string) (*engine.Engine, func(), error) {
	cfg, err := g.load(path)
	if err != nil {
		return nil, nil, err
	}
	prov, diags := providers.New(cfg)
	g.printDiags(diags)
	if diags.HasErrors() {
		return nil, nil, invalid(errSilent)
	}
	log := g.logger()
	lf, err := g.lockFile(path)
	if err != nil {
		return nil, nil, err
	}
	host := pluginhost.New(pluginhost.Options{CacheFile: pluginhost.DefaultCacheFile(), LockFile: lf, Logger: log})
	e := &engine.Engine{Config: cfg, Host: host, Provider: prov, Parallelism: g.parallelism, Log: log, Lock: g.lock}
	return e, host.Close, nil
}

// withEngine runs fn with the engine of a lab file, then stops every plugin it launched.
func (g *globals) withEngine(path string, fn func(*engine.Engine) error) error {
	e, done, err := g.engine(path)
	if err != nil {
		return err
	}
	defer done()
	return fn(e)
}

// validated runs Validate and prints its diagnostics.
func (g *globals) validated(ctx context.Context, e *engine.Engine) ([]*engine.Stack, error) {
	stacks, diags := e.Validate(ctx)
	g.printDiags(diags)
	if diags.HasErrors() {
		return nil, invalid(errSilent)
	}
	return stacks, nil
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// confirm asks on a terminal; without one (scripts, CI) it does not ask.
func (g *globals) confirm(question string, yes bool) bool {
	if yes || !isTerminal(os.Stdin) {
		return true
	}
	fmt.Fprintf(g.stderr, "%s [y/N] ", question)
	var answer string
	fmt.Fscanln(os.Stdin, &answer)
	return strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes")
}

// printJSON writes v as indented JSON on stdout.
func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
