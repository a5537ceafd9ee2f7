package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// WriteFrom replaces path with what fill writes, for data too large to hold in memory (a
// database dump, a TSDB snapshot). Like Write, readers see the old file, or none, until
// fill has returned without error and the new data is synced; on error nothing is left.
func WriteFrom(path string, mode os.FileMode, fill func(w io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	buf := bufio.NewWriterSize(tmp, 1<<20)
	err = tmp.Chmod(mode)
	if err == nil {
		err = fill(buf)
	}
	if err == nil {
		err = buf.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
