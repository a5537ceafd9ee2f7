// Package engine plans, applies, checks and destroys the lab: the cluster, then the stacks
// over their dependency graph, independent stacks in parallel.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/nexolab/lab/core/cluster"
	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/graph"
	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
)

// Engine runs lab's commands over one lab.hcl.
type Engine struct {
	Config   *config.Config
	Host     *pluginhost.Host
	Provider cluster.Provider
	Observer Observer
	// Parallelism bounds how many stacks work at once.
	Parallelism int
	Log         hclog.Logger
	// Lock says how writers take the lab's lock (lock.go).
	Lock LockOptions
}

// Stack is an enabled stack block resolved against its plugin.
type Stack struct {
	Name       string
	Block      *config.Stack
	Plugin     pluginhost.Description
	ConfigJSON json.RawMessage
	// Hash identifies the config, chart overrides and lab settings the stack gets.
	Hash string
	// DependsOn are the enabled stacks this one waits for.
	DependsOn []string
	// NoPlugin is set when no plugin binary exists for the stack.
	NoPlugin bool
}

func (e *Engine) log() hclog.Logger {
	if e.Log == nil {
		return hclog.NewNullLogger()
	}
	return e.Log
}

func (e *Engine) observer() Observer {
	if e.Observer == nil {
		return nopObserver{}
	}
	return e.Observer
}

// Validate checks every enabled stack block against its plugin's schema and the
// dependency graph. It launches a plugin only when its description is not cached.
func (e *Engine) Validate(ctx context.Context) ([]*Stack, hcl.Diagnostics) {
	blocks := e.Config.Enabled()
	stacks := make([]*Stack, len(blocks))
	diags := make([]hcl.Diagnostics, len(blocks))
	var wg sync.WaitGroup
	for i, b := range blocks {
		wg.Go(func() { stacks[i], diags[i] = e.resolve(ctx, b) })
	}
	wg.Wait()
	_ = e.Host.SaveCache() // the cache only saves launches; failing to write it is harmless
	var all hcl.Diagnostics
	for _, d := range diags {
		all = append(all, d...)
	}
	if all.HasErrors() {
		return nil, all
	}
	all = append(all, e.link(stacks)...)
	return stacks, all
}

// valid returns the enabled stacks, or the errors of Validate as one error.
func (e *Engine) valid(ctx context.Context) ([]*Stack, error) {
	stacks, diags := e.Validate(ctx)
	if diags.HasErrors() {
		return nil, errors.New(diags.Error())
	}
	return stacks, nil
}

// connect reaches the running cluster.
func (e *Engine) connect(ctx context.Context) (sdk.Cluster, error) {
	conn, err := e.Provider.Connect(ctx)
	if err != nil {
		return sdk.Cluster{}, fmt.Errorf("cluster %s: %w", e.Provider.Name(), err)
	}
	return conn, nil
}

func (e *Engine) resolve(ctx context.Context, b *config.Stack) (*Stack, hcl.Diagnostics) {
	s := &Stack{Name: b.Name, Block: b}
	desc, err := e.Host.Describe(ctx, b.Name)
	if errors.Is(err, pluginhost.ErrNotFound) {
		s.NoPlugin = true
		return s, hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "No plugin found",
			Detail: fmt.Sprintf("No plugin for stack %q (lab-plugin-%s); the stack is skipped.%s",
				b.Name, b.Name, suggestPlugin(b.Name, e.Host.Found())),
			Subject: b.DefRange.Ptr()}}
	}
	if err != nil {
		return s, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Plugin failed", Detail: err.Error(), Subject: b.DefRange.Ptr()}}
	}
	s.Plugin = desc
	cfg, diags := e.Config.DecodeStack(b, desc.Schema)
	if diags.HasErrors() {
		return s, diags
	}
	s.ConfigJSON = cfg
	files, err := pathsDigest(desc.Schema, cfg)
	if err != nil {
		return s, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unreadable path", Detail: err.Error(), Subject: b.DefRange.Ptr()})
	}
	req := &sdk.Request{Stack: b.Name, ConfigJSON: cfg,
		Lab: sdk.Lab{Name: e.Config.Lab.Name, Domain: e.Config.Lab.Domain, DataDir: e.Config.Lab.DataDir}}
	checks, err := e.Host.Validate(ctx, desc, req, files)
	if err != nil {
		return s, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plugin failed", Detail: err.Error(), Subject: b.DefRange.Ptr()})
	}
	if diags = append(diags, e.Config.PluginDiagnostics(b, checks)...); diags.HasErrors() {
		return s, diags
	}
	s.Hash = hashOf(cfg, b.Charts, e.Config.Lab.Domain, e.Config.Lab.DataDir, files)
	return s, diags
}

// link sets each stack's dependencies: the plugin's defaults when those stacks are enabled,
// and depends_on from lab.hcl, which must be. Then it checks the graph for cycles.
func (e *Engine) link(stacks []*Stack) hcl.Diagnostics {
	byName := map[string]*Stack{}
	for _, s := range stacks {
		byName[s.Name] = s
	}
	var diags hcl.Diagnostics
	g := graph.Graph{}
	for _, s := range stacks {
		deps := map[string]bool{}
		for _, d := range s.Plugin.Info.DependsOn {
			if byName[d] != nil && d != s.Name {
				deps[d] = true
			}
		}
		for _, d := range s.Block.DependsOn {
			if byName[d] == nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency not enabled",
					Detail:  fmt.Sprintf("Stack %q depends on %q, which is disabled.", s.Name, d),
					Subject: s.Block.DependsOnRange.Ptr()})
			}
			deps[d] = true
		}
		s.DependsOn = sortedSet(deps)
		g[s.Name] = s.DependsOn
	}
	if diags.HasErrors() {
		return diags
	}
	var ce *graph.CycleError
	if err := g.Check(); errors.As(err, &ce) {
		first := byName[ce.Path[0]]
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency cycle",
			Detail:  "The stacks depend on each other in a cycle: " + err.Error()[len("dependency cycle: "):] + ".",
			Subject: first.Block.DefRange.Ptr()})
	}
	return diags
}

func graphOf(stacks []*Stack) graph.Graph {
	g := graph.Graph{}
	for _, s := range stacks {
		g[s.Name] = s.DependsOn
	}
	return g
}

func hashOf(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		b, _ := json.Marshal(p) // plain values decoded from HCL: always encodable
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func suggestPlugin(name string, found map[string]string) string {
	if len(found) == 0 {
		return " No plugins are installed: run make build, or set LAB_PLUGIN_PATH."
	}
	return " Installed plugins: " + fmt.Sprint(pluginhost.Names(found)) + "."
}

// request builds the request of a stack's plugin.
func (e *Engine) request(s *Stack, c sdk.Cluster) *sdk.Request {
	req := &sdk.Request{
		Stack:   s.Name,
		Cluster: c,
		Lab:     sdk.Lab{Name: e.Config.Lab.Name, Domain: e.Config.Lab.Domain, DataDir: e.Config.Lab.DataDir},
		Charts:  map[string]sdk.ChartOverride{},
	}
	if s.Block != nil {
		req.ConfigJSON = s.ConfigJSON
		req.Charts = s.Block.Charts
	}
	req.OnEvent = func(ev sdk.Event) { e.observer().Event(s.Name, ev) }
	return req
}

// pathsDigest hashes what the config points at outside lab.hcl: the content behind path
// attributes (a file, or every file of a folder) and the values of env attributes, so
// that plan sees an edited dashboard or a rotated token as a change.
func pathsDigest(schema []sdk.Attribute, cfg json.RawMessage) (string, error) {
	var values map[string]any
	if err := json.Unmarshal(cfg, &values); err != nil {
		return "", err
	}
	h := sha256.New()
	for _, a := range schema {
		p, ok := values[a.Name].(string)
		if a.Env && ok {
			fmt.Fprintf(h, "%s=%s\n", p, os.Getenv(p))
		}
		if !a.Path || !ok || p == "" {
			continue
		}
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d\n", path, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("%s: %w", a.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
