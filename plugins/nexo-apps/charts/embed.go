// Package charts holds the nexo-apps stack's own Helm charts, embedded, and the values
// each environment gives them: the same for the plugin's Helm releases and for the
// repository `lab gitops init` writes for Argo CD.
package charts

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/nexolab/lab/core/atomicfile"
)

// FS holds one folder per chart.
//
//go:embed all:nexo-fe all:nexo-be all:nexo-auth all:postgres all:redis
var FS embed.FS

// Names are the charts: the applications, then the shared services.
var Names = []string{"nexo-fe", "nexo-be", "nexo-auth", "postgres", "redis"}

// Version is the version of every chart.
const Version = "0.1.0"

// Dir returns a folder under cache holding the charts, writing it when missing: Helm
// loads charts from a folder. The folder is named for the charts' digest, so a plugin
// with other charts never reads stale ones.
func Dir(cache string) (string, error) {
	sum, err := Digest()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "nexo-apps-"+sum[:16])
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	if err := Copy(dir, "", 0o644); err != nil {
		return "", err
	}
	return dir, atomicfile.Write(filepath.Join(dir, ".complete"), []byte(sum), 0o644)
}

// Copy writes the chart named (every chart when empty) under dir, each in its folder.
func Copy(dir, name string, mode os.FileMode) error {
	root := "."
	if name != "" {
		root = name
	}
	return fs.WalkDir(FS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		return atomicfile.Write(filepath.Join(dir, filepath.FromSlash(p)), b, mode)
	})
}

// Digest hashes every file of the charts.
func Digest() (string, error) {
	h := sha256.New()
	var paths []string
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, _ := FS.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
