package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles ./cmd/lab, ./cmd/lab-plugins and the given plugins (paths relative to the
// repository, e.g. "plugins/ingress") into dir, the way make build lays them out. A
// first-party stack (a folder under plugins/) is built into lab-plugins, so it becomes a
// link lab-plugin-<folder> to lab-plugins. Any other main package builds to
// lab-plugin-<folder name>, or to the name given after "=" (for example
// "e2e/testplugins/testkit=lab-plugin-alpha"). The Go build cache makes repeated builds
// cheap.
func Build(dir string, pkgs ...string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	if err := goBuild(root, root, dir+string(filepath.Separator), "./cmd/lab", "./cmd/"+pluginsBinary); err != nil {
		return err
	}
	for _, p := range pkgs {
		pkg, name, ok := strings.Cut(p, "=")
		if !ok {
			name = "lab-plugin-" + filepath.Base(pkg)
		}
		if builtIn(pkg) {
			err = link(dir, name)
		} else {
			err = goBuild(root, root, filepath.Join(dir, name), "./"+pkg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pluginsBinary is the multi-call binary of the first-party plugins (./cmd/lab-plugins).
const pluginsBinary = "lab-plugins"

// builtIn reports whether a package is one of the stacks lab-plugins carries.
func builtIn(pkg string) bool {
	return strings.HasPrefix(filepath.ToSlash(filepath.Clean(pkg)), "plugins/")
}

// link makes dir/name start dir/lab-plugins as a plugin, as make build does.
func link(dir, name string) error {
	path := filepath.Join(dir, name)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Symlink(pluginsBinary, path)
}

// goBuild builds pkgs, relative to dir, in the workspace of root; out is the binary, or a
// folder (ending in a separator) for several.
func goBuild(root, dir, out string, pkgs ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, pkgs...)...)
	cmd.Dir = dir
	// As make build does (see the Makefile for why no cgo).
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, lastLines(string(b), 30))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Env returns the environment for running the lab binary in a test: plugins from dir,
// caches in the given folder so runs do not share state with the user's.
func Env(pluginDir, cacheDir string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LAB_PLUGIN_PATH=") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "LAB_PLUGIN_PATH="+pluginDir, "XDG_CACHE_HOME="+cacheDir)
}
