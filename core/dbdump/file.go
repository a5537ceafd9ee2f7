package dbdump

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nexolab/lab/core/atomicfile"
)

// SumSuffix names a dump's checksum file: <dump>.sha256, in sha256sum's format, so
// `sha256sum -c nexo.dump.sha256` checks a dump by hand too.
const SumSuffix = ".sha256"

// writeDump streams fill into path: a temporary file of mode 0600 in the same folder,
// synced and renamed over path only when fill succeeded, then path's checksum file.
// A failed dump leaves the previous files as they were.
func writeDump(path string, fill func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if err := fill(bw); err != nil {
		f.Close()
		return err
	}
	for _, step := range []func() error{bw.Flush, f.Sync, f.Close} {
		if err := step(); err != nil {
			f.Close()
			return err
		}
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	line := hex.EncodeToString(h.Sum(nil)) + "  " + filepath.Base(path) + "\n"
	return atomicfile.Write(path+SumSuffix, []byte(line), 0o600)
}

// verifyFile checks path against its checksum file and that it starts with magic.
// It reads the whole file: a dump cut short or changed anywhere is refused.
func verifyFile(path, magic string) error {
	b, err := os.ReadFile(path + SumSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: no checksum file %s%s: the dump is incomplete", path, filepath.Base(path), SumSuffix)
	}
	if err != nil {
		return err
	}
	want, name, ok := strings.Cut(strings.TrimSpace(string(b)), "  ")
	if !ok || len(want) != 64 || name != filepath.Base(path) {
		return fmt.Errorf("%s%s: not a checksum line for %s", path, SumSuffix, filepath.Base(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != magic {
		return fmt.Errorf("%s: not a %s dump", path, strings.TrimSpace(magic))
	}
	h := sha256.New()
	h.Write(head)
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		return fmt.Errorf("%s: does not match its checksum: the dump is truncated or damaged", path)
	}
	return nil
}
