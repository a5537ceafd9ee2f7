// Package pluginhost finds, describes and launches stack plugins.
package pluginhost

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Prefix starts the file name of every plugin binary: lab-plugin-<stack>.
const Prefix = "lab-plugin-"

// DefaultDirs is the search path: ./bin, then $LAB_PLUGIN_PATH (a list), then ~/.lab/plugins.
func DefaultDirs() []string {
	dirs := []string{"bin"}
	if p := os.Getenv("LAB_PLUGIN_PATH"); p != "" {
		dirs = append(dirs, filepath.SplitList(p)...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".lab", "plugins"))
	}
	return dirs
}

// Discover lists the plugins in dirs by stack name; the first directory that has one wins.
func Discover(dirs []string) map[string]string {
	found := map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // a missing folder on the search path is normal
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), Prefix)
			if !ok || e.IsDir() || name == "" || found[name] != "" {
				continue
			}
			path, err := filepath.Abs(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			if info, err := os.Stat(path); err == nil && info.Mode()&0o111 != 0 {
				found[name] = path
			}
		}
	}
	return found
}

// Names returns the sorted names of found plugins.
func Names(found map[string]string) []string {
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
