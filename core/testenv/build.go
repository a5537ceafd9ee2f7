package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Binaries builds ./bin/lab and every plugin (make build) once per test process and
// returns the folder that holds them. The Go build cache makes repeated builds cheap.
func Binaries() (string, error) {
	buildOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir = filepath.Join(root, "bin")
		cmd := exec.Command("make", "build")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("make build: %w\n%s", err, lastLines(string(out), 30))
		}
	})
	return buildDir, buildErr
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
