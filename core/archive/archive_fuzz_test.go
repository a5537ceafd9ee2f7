package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"
)

// seedArchive is a real backup of two stacks, as Write makes it.
func seedArchive(f testing.TB) []byte {
	src := f.TempDir()
	for name, content := range map[string]string{
		"argocd/applications.yaml": "kind: Application\n", "argocd/secrets/repo.yaml": "kind: Secret\n",
		"monitoring/dashboards.json": `{"dashboards":[]}`,
	} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	dest := filepath.Join(f.TempDir(), "lab.tar.gz")
	m := Manifest{Lab: "nexo", Created: time.Now(), Stacks: []Stack{{Name: "argocd"}, {Name: "monitoring"}}}
	if err := Write(dest, m, map[string]string{"argocd": filepath.Join(src, "argocd"), "monitoring": filepath.Join(src, "monitoring")}); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// foreign is a tar.gz that is not a lab backup: a file that escapes, then a manifest.
func foreign() []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range []struct{ name, body string }{{"../escape.txt", "x"}, {ManifestName, `{"stacks":[]}`}} {
		_ = tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.body))})
		_, _ = tw.Write([]byte(e.body))
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

// R6: a truncated, corrupted or foreign archive never makes Extract panic or write outside
// its folder, and an archive it accepts has every file of its manifest, whole.
func FuzzExtract(f *testing.F) {
	good := seedArchive(f)
	f.Add(good)
	for _, n := range []int{0, 10, len(good) / 3, len(good) / 2, len(good) - 8, len(good) - 1} {
		f.Add(good[:n]) // truncated
	}
	for _, i := range []int{12, len(good) / 2, len(good) - 6} {
		bad := bytes.Clone(good)
		bad[i] ^= 0x5a // corrupted
		f.Add(bad)
	}
	f.Add(foreign())
	f.Add([]byte("not an archive at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		src := filepath.Join(base, "in.tar.gz")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(base, "out")
		m, err := Extract(src, dir)
		entries, _ := os.ReadDir(base)
		for _, e := range entries {
			if e.Name() != "in.tar.gz" && e.Name() != "out" {
				t.Fatalf("Extract wrote %s outside its folder", e.Name())
			}
		}
		if err != nil {
			return
		}
		for _, s := range m.Stacks {
			for _, file := range s.Files {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path.Join(s.Name, file.Path))))
				if err != nil {
					t.Fatalf("accepted archive lacks %s/%s: %v", s.Name, file.Path, err)
				}
				sum := sha256.Sum256(b)
				if hex.EncodeToString(sum[:]) != file.SHA256 {
					t.Fatalf("accepted archive has %s/%s not matching its checksum", s.Name, file.Path)
				}
			}
		}
	})
}

// Truncated, corrupted and foreign archives are refused, with nothing trusted from them.
func TestBrokenArchivesAreRefused(t *testing.T) {
	good := seedArchive(t)
	mid := bytes.Clone(good)
	mid[len(mid)/2] ^= 0x5a
	for name, data := range map[string][]byte{
		"empty": {}, "truncated": good[:len(good)/2], "truncated tail": good[:len(good)-1],
		"corrupted": mid, "foreign": foreign(), "plain text": []byte("hello"),
	} {
		src := filepath.Join(t.TempDir(), "in.tar.gz")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Extract(src, t.TempDir()); err == nil {
			t.Errorf("%s archive accepted", name)
		}
	}
}
