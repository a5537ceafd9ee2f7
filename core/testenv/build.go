package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles ./cmd/lab and the given main packages (paths relative to the repository,
// e.g. "plugins/ingress") into dir. A package builds to lab-plugin-<folder name>, or to the
// name given after "=" ("e2e/testplugins/testkit=lab-plugin-alpha"). The Go build cache
// makes repeated builds cheap.
func Build(dir string, pkgs ...string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	targets := map[string]string{"lab": "./cmd/lab"}
	for _, p := range pkgs {
		pkg, name, ok := strings.Cut(p, "=")
		if !ok {
			name = "lab-plugin-" + filepath.Base(pkg)
		}
		targets[name] = "./" + pkg
	}
	for name, pkg := range targets {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", pkg, err, lastLines(string(out), 30))
		}
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
