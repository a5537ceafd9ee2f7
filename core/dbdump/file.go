package dbdump

import (
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

// writeDump streams fill into path (mode 0600) with atomicfile.WriteFrom, hashing on
// the way, then writes path's checksum file. A failed dump leaves the previous dump as
// it was; a dump whose checksum file is missing is refused by verifyFile.
func writeDump(path string, fill func(w io.Writer) error) error {
	h := sha256.New()
	if err := atomicfile.WriteFrom(path, 0o600, func(w io.Writer) error { return fill(io.MultiWriter(w, h)) }); err != nil {
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
