// Package archive writes and reads lab backups: one tar.gz holding a folder per stack and
// a manifest with every file's SHA-256. An archive is written to a temporary file and
// renamed into place, so it is either whole or absent; it holds secrets, so it is 0600.
package archive

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ManifestName is the manifest's path inside the archive.
const ManifestName = "manifest.json"

// Manifest describes an archive.
type Manifest struct {
	Lab     string    `json:"lab"`
	Created time.Time `json:"created"`
	Stacks  []Stack   `json:"stacks"`
}

// Stack is one stack's part of an archive.
type Stack struct {
	Name          string `json:"name"`
	PluginVersion string `json:"pluginVersion"`
	Files         []File `json:"files"`
}

// File is one file of a stack's part.
type File struct {
	Path   string `json:"path"` // relative to the stack's folder, slash-separated
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Stack returns a stack's part, or nil.
func (m *Manifest) Stack(name string) *Stack {
	for i := range m.Stacks {
		if m.Stacks[i].Name == name {
			return &m.Stacks[i]
		}
	}
	return nil
}

// Write archives the stacks' folders (dirs maps stack name to folder) into dest.
func Write(dest string, m Manifest, dirs map[string]string) error {
	for i := range m.Stacks {
		files, err := listFiles(dirs[m.Stacks[i].Name])
		if err != nil {
			return err
		}
		m.Stacks[i].Files = files
	}
	sort.Slice(m.Stacks, func(i, j int) bool { return m.Stacks[i].Name < m.Stacks[j].Name })
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".lab-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := writeTar(tmp, m, dirs); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func writeTar(w io.Writer, m Manifest, dirs map[string]string) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := addBytes(tw, ManifestName, mb); err != nil {
		return err
	}
	for _, s := range m.Stacks {
		for _, f := range s.Files {
			if err := addFile(tw, path.Join(s.Name, f.Path), filepath.Join(dirs[s.Name], filepath.FromSlash(f.Path))); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addFile(tw *tar.Writer, name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

func listFiles(dir string) ([]File, error) {
	var out []File
	if dir == "" {
		return out, nil
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: only regular files can be backed up", p)
		}
		sum, size, err := hashFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, File{Path: filepath.ToSlash(rel), Size: size, SHA256: sum})
		return nil
	})
	return out, err
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// Extract checks every file of the archive against the manifest and writes the stacks'
// folders under dir (dir/<stack>/...). Nothing is trusted before its checksum matches: the
// manifest must come first, and an entry it does not list, a second copy of one, anything
// but a regular file, or a file longer than the manifest says is refused.
func Extract(src, dir string) (*Manifest, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a lab backup: %w", src, err)
	}
	tr := tar.NewReader(gz)
	m, err := readManifest(tr)
	if err != nil {
		return nil, fmt.Errorf("%s: not a lab backup: %w", src, err)
	}
	want := map[string]File{}
	for _, s := range m.Stacks {
		for _, f := range s.Files {
			want[path.Join(s.Name, f.Path)] = f
		}
	}
	seen := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		f, listed := want[h.Name]
		switch {
		case !h.FileInfo().Mode().IsRegular():
			return nil, fmt.Errorf("%s: entry %q is not a regular file", src, h.Name)
		case !listed:
			return nil, fmt.Errorf("%s: entry %q is not in the manifest", src, h.Name)
		case seen[h.Name] != "":
			return nil, fmt.Errorf("%s: entry %q appears twice", src, h.Name)
		}
		sum, err := extractFile(io.LimitReader(tr, f.Size+1), h.Name, dir)
		if err != nil {
			return nil, err
		}
		seen[h.Name] = sum
	}
	// The tar ends before gzip's trailer: read it, so its checksum and length are checked.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return nil, fmt.Errorf("%s: truncated or damaged: %w", src, err)
	}
	return m, verify(m, seen)
}

// readManifest reads the archive's first entry, which must be the manifest.
func readManifest(tr *tar.Reader) (*Manifest, error) {
	h, err := tr.Next()
	if err != nil {
		return nil, err
	}
	if h.Name != ManifestName {
		return nil, fmt.Errorf("its first entry is %q, not %s", h.Name, ManifestName)
	}
	m := &Manifest{}
	if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	return m, nil
}

func extractFile(r io.Reader, name, dir string) (string, error) {
	clean := path.Clean(name)
	if strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
		return "", fmt.Errorf("archive entry %q leaves the archive", name)
	}
	dest := filepath.Join(dir, filepath.FromSlash(clean))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return "", err
	}
	out, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return hex.EncodeToString(h.Sum(nil)), err
}

func verify(m *Manifest, seen map[string]string) error {
	for _, s := range m.Stacks {
		for _, f := range s.Files {
			name := path.Join(s.Name, f.Path)
			got, ok := seen[name]
			if !ok {
				return fmt.Errorf("archive is missing %s", name)
			}
			if got != f.SHA256 {
				return fmt.Errorf("%s does not match its checksum: the archive is damaged", name)
			}
		}
	}
	return nil
}
