// Package hosts manages the lab's block of /etc/hosts: one block per lab, between marker
// lines, rewritten whole. The file is replaced through a temporary file and a rename, so
// it is never half-written; lines outside the block are kept byte for byte.
package hosts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"

	"github.com/nexolab/lab/core/atomicfile"
)

// DefaultFile is the system hosts file.
const DefaultFile = "/etc/hosts"

// Entry maps a host name to an address.
type Entry struct {
	IP   string `json:"ip"`
	Host string `json:"host"`
}

func begin(lab string) string {
	return "# BEGIN lab " + lab + " (managed by lab hosts; edits inside are replaced)"
}
func end(lab string) string { return "# END lab " + lab }

// Block renders the managed block of a lab, entries sorted by host.
func Block(lab string, entries []Entry) string {
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Host < sorted[j].Host })
	var b strings.Builder
	b.WriteString(begin(lab) + "\n")
	for _, e := range sorted {
		fmt.Fprintf(&b, "%s\t%s\n", e.IP, e.Host)
	}
	b.WriteString(end(lab) + "\n")
	return b.String()
}

// Show returns the entries of a lab's block in the file.
func Show(path, lab string) ([]Entry, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, block, _, err := split(src, lab)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, line := range strings.Split(string(block), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			for _, h := range f[1:] {
				out = append(out, Entry{IP: f[0], Host: h})
			}
		}
	}
	return out, nil
}

// Sync writes the lab's block with exactly these entries; it reports whether the file changed.
func Sync(path, lab string, entries []Entry) (bool, error) {
	return rewrite(path, lab, Block(lab, entries))
}

// Remove deletes the lab's block; it reports whether the file changed.
func Remove(path, lab string) (bool, error) { return rewrite(path, lab, "") }

func rewrite(path, lab, block string) (bool, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	before, old, after, err := split(src, lab)
	if err != nil {
		return false, err
	}
	if old == nil && block == "" {
		return false, nil
	}
	if old == nil && len(before) > 0 && !bytes.HasSuffix(before, []byte("\n")) {
		before = append(before, '\n')
	}
	out := append(append(append([]byte{}, before...), block...), after...)
	if bytes.Equal(out, src) {
		return false, nil
	}
	return true, replace(path, out)
}

// split cuts the file around the lab's block (markers included). A begin marker without
// its end is an error: guessing where the block ends could delete the user's lines.
func split(src []byte, lab string) (before, block, after []byte, err error) {
	b := []byte(begin(lab))
	i := bytes.Index(src, b)
	if i < 0 {
		return src, nil, nil, nil
	}
	e := []byte(end(lab) + "\n")
	j := bytes.Index(src[i:], e)
	if j < 0 {
		if bytes.HasSuffix(src, []byte(end(lab))) { // end marker on the last line, no newline
			return src[:i], src[i:], nil, nil
		}
		return nil, nil, nil, fmt.Errorf("the hosts file has %q without %q: fix it by hand", begin(lab), end(lab))
	}
	return src[:i], src[i : i+j+len(e)], src[i+j+len(e):], nil
}

// replace swaps in the new content atomically, keeping the file's mode. Where the file
// cannot be renamed over (a bind-mounted /etc/hosts in a container), it is written in
// place after a copy of the old content is kept beside it.
func replace(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	err = atomicfile.Write(path, data, st.Mode().Perm())
	if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
		return inPlace(path, data)
	}
	return permission(path, err)
}

func inPlace(path string, data []byte) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".lab-backup", old, 0o644); err != nil {
		return permission(path, err)
	}
	return permission(path, os.WriteFile(path, data, 0o644))
}

func permission(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%s: %w (run with sudo, or use --hosts-file)", path, err)
	}
	return err
}
