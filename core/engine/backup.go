package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nexolab/lab/core/archive"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// BackupTimeout bounds one stack's backup or restore.
var BackupTimeout = 15 * time.Minute

// Backup asks each named (or every installed) stack to write its data, then writes one
// archive at dest. Stacks that have nothing to back up are reported as skipped.
func (e *Engine) Backup(ctx context.Context, names []string, dest string) (*Report, error) {
	stacks, conn, records, err := e.installed(ctx, names)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "lab-backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	rep := &Report{}
	m := archive.Manifest{Lab: e.Config.Lab.Name, Created: time.Now().UTC()}
	dirs := map[string]string{}
	for _, s := range stacks {
		dir := filepath.Join(work, s.Name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, err
		}
		r := e.work(ctx, s, conn, Backup, dir, func(ctx context.Context, c *sdk.Client, req *sdk.Request) (*sdk.Result, error) {
			return c.Backup(ctx, req)
		})
		rep.Results = append(rep.Results, r)
		if r.Outcome == OK {
			dirs[s.Name] = dir
			m.Stacks = append(m.Stacks, archive.Stack{Name: s.Name, PluginVersion: records[s.Name].PluginVersion})
		}
	}
	if len(rep.Failed()) > 0 {
		return rep, fmt.Errorf("no archive written: backup failed for %v", rep.Failed())
	}
	return rep, archive.Write(dest, m, dirs)
}

// Restore checks the archive, then gives each stack found in it (or the named ones) its
// data back, in dependency order.
func (e *Engine) Restore(ctx context.Context, src string, names []string) (*Report, error) {
	work, err := os.MkdirTemp("", "lab-restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	m, err := archive.Extract(src, work)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		for _, s := range m.Stacks {
			names = append(names, s.Name)
		}
	}
	for _, n := range names {
		if m.Stack(n) == nil {
			return nil, fmt.Errorf("the archive has no data of stack %q", n)
		}
	}
	stacks, conn, _, err := e.installed(ctx, names)
	if err != nil {
		return nil, err
	}
	ctx, unlock, err := e.lock(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rep := &Report{}
	for _, s := range stacks {
		r := e.work(ctx, s, conn, Restore, filepath.Join(work, s.Name), func(ctx context.Context, c *sdk.Client, req *sdk.Request) (*sdk.Result, error) {
			return c.Restore(ctx, req)
		})
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// installed returns the named (or all) enabled stacks that are installed, in dependency order.
func (e *Engine) installed(ctx context.Context, names []string) ([]*Stack, sdk.Cluster, map[string]state.Record, error) {
	stacks, err := e.valid(ctx)
	if err != nil {
		return nil, sdk.Cluster{}, nil, err
	}
	order, err := graphOf(stacks).Order()
	if err != nil {
		return nil, sdk.Cluster{}, nil, err
	}
	selected, err := selectStacks(stacks, names)
	if err != nil {
		return nil, sdk.Cluster{}, nil, err
	}
	conn, err := e.connect(ctx)
	if err != nil {
		return nil, sdk.Cluster{}, nil, err
	}
	records, err := e.records(ctx, conn)
	if err != nil {
		return nil, sdk.Cluster{}, nil, err
	}
	want := map[string]*Stack{}
	for _, s := range selected {
		if _, ok := records[s.Name]; ok && !s.NoPlugin {
			want[s.Name] = s
		} else if len(names) > 0 {
			return nil, sdk.Cluster{}, nil, fmt.Errorf("stack %q is not installed", s.Name)
		}
	}
	var out []*Stack
	for _, n := range order {
		if s := want[n]; s != nil {
			out = append(out, s)
		}
	}
	return out, conn, records, nil
}

// work runs one data method of a stack's plugin with dir as its folder.
func (e *Engine) work(ctx context.Context, s *Stack, conn sdk.Cluster, action Action, dir string,
	fn func(context.Context, *sdk.Client, *sdk.Request) (*sdk.Result, error)) StackResult {
	start := time.Now()
	e.observer().Start(s.Name, action)
	req := e.request(s, conn)
	req.Dir = dir
	res, err := e.call(ctx, s.Name, BackupTimeout, func(ctx context.Context, c *sdk.Client) (*sdk.Result, error) {
		return fn(ctx, c, req)
	})
	r := StackResult{Stack: s.Name, Action: action, Outcome: OK, Result: res, Duration: time.Since(start)}
	switch {
	case errors.Is(err, sdk.ErrNotSupported):
		r.Outcome, r.Err = Skipped, fmt.Errorf("has no data to %s", action)
	case err != nil:
		r.Outcome, r.Err = Failed, fmt.Errorf("stack %s: %s: %w", s.Name, action, err)
	}
	e.observer().Done(r)
	return r
}
