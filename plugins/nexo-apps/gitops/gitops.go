// Package gitops writes the repository layout the nexo-apps stack's Argo CD
// Applications expect, so a new team starts from it:
//
//	apps/nexo-fe/      the chart, values-<slot>.yaml per environment (Application nexo-fe-<slot>)
//	apps/nexo-be/      the same for nexo-be
//	apps/nexo-auth/    Keycloak's chart and values-local.yaml (Application nexo-auth-local)
//	local/helm/        PostgreSQL's and Redis's charts, which lab installs itself
//	.github/workflows/ci.yml   test, build, push to Harbor with the robot account, bump the tag
//
// The charts and values are the plugin's own (package charts), so what Argo CD syncs is
// what `lab apply` would install with Helm.
package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

// Options say which lab the repository is for.
type Options struct {
	Domain       string
	Environments []string // develop, qa, ...
	// Registry is the images' registry and project; harbor.<domain>/nexo when empty.
	Registry string
	Tag      string // the first image tag; "latest" when empty
	// Force replaces files that exist and differ.
	Force bool
}

// ErrExists is returned, with the paths, when files exist that would be replaced.
var ErrExists = errors.New("files exist and differ (use --force to replace them)")

// Write writes the layout under dir and returns the files it wrote, relative to dir.
// Files that exist with the same content are left alone; nothing is written when one
// exists with other content, unless Force.
func Write(dir string, o Options) ([]string, error) {
	files, err := Files(o)
	if err != nil {
		return nil, err
	}
	var differ []string
	for _, p := range sortedKeys(files) {
		cur, err := os.ReadFile(filepath.Join(dir, p))
		if err == nil && !bytes.Equal(cur, files[p]) {
			differ = append(differ, p)
		}
	}
	if len(differ) > 0 && !o.Force {
		return nil, fmt.Errorf("%s: %w: %s", dir, ErrExists, strings.Join(differ, ", "))
	}
	var wrote []string
	for _, p := range sortedKeys(files) {
		path := filepath.Join(dir, filepath.FromSlash(p))
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, files[p]) {
			continue
		}
		mode := os.FileMode(0o644)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return wrote, err
		}
		if err := atomicfile.Write(path, files[p], mode); err != nil {
			return wrote, err
		}
		wrote = append(wrote, p)
	}
	return wrote, nil
}

// Files is the layout: path (with "/") => content.
func Files(o Options) (map[string][]byte, error) {
	if o.Domain == "" || len(o.Environments) == 0 {
		return nil, errors.New("gitops: a domain and at least one environment are needed")
	}
	if o.Registry == "" {
		o.Registry = "harbor." + o.Domain + "/nexo"
	}
	if o.Tag == "" {
		o.Tag = "latest"
	}
	site := charts.Site{Domain: o.Domain, Registry: o.Registry}
	var envs []charts.Env
	for _, name := range o.Environments {
		envs = append(envs, charts.NewEnv(name, o.Tag))
	}
	out := map[string][]byte{}
	for _, c := range []struct{ name, dir string }{
		{"nexo-fe", "apps/nexo-fe"}, {"nexo-be", "apps/nexo-be"}, {"nexo-auth", "apps/nexo-auth"},
		{"postgres", "local/helm/postgres"}, {"redis", "local/helm/redis"},
	} {
		if err := chartFiles(out, c.name, c.dir); err != nil {
			return nil, err
		}
	}
	for _, e := range envs {
		if err := values(out, "apps/nexo-fe/values-"+e.Slot+".yaml", site.FEValues(e)); err != nil {
			return nil, err
		}
		if err := values(out, "apps/nexo-be/values-"+e.Slot+".yaml", site.BEValues(e)); err != nil {
			return nil, err
		}
	}
	if err := values(out, "apps/nexo-auth/values-local.yaml", site.AuthValues(envs, nil)); err != nil {
		return nil, err
	}
	out[".github/workflows/ci.yml"] = []byte(workflow(o.Registry, envs))
	out["README.md"] = []byte(readme(o, envs))
	return out, nil
}

func chartFiles(out map[string][]byte, name, dir string) error {
	tmp, err := os.MkdirTemp("", "nexo-gitops-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := charts.Copy(tmp, name, 0o644); err != nil {
		return err
	}
	return filepath.WalkDir(filepath.Join(tmp, name), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(tmp, name), p)
		out[dir+"/"+filepath.ToSlash(rel)] = b
		return nil
	})
}

func values(out map[string][]byte, path string, v map[string]any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	out[path] = append([]byte("# Written by `lab gitops init`; the image tag is bumped by CI.\n"), b...)
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
