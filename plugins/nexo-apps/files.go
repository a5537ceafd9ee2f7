package nexoapps

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/nexolab/lab/core/atomicfile"
)

// filesIn lists the files under dir, relative to it.
func filesIn(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(out)
	return out, err
}

// writeFile writes a backup file whole or not at all; backups may hold secrets.
func writeFile(path string, b []byte) error { return atomicfile.Write(path, b, 0o600) }

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
