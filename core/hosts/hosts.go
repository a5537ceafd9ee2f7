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

// joined is the block's first line when lab had to end the file's last line to append
// the block: Remove takes that line break away again, so the file gets its bytes back.
const joined = "# (lab ended the line above; removing this block takes that line break away)"

// Block renders the managed block of a lab, entries sorted by host, as sync writes it.
func Block(lab string, entries []Entry) string { return render(lab, entries, "\n", false) }

func render(lab string, entries []Entry, eol string, joinedBefore bool) string {
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Host < sorted[j].Host })
	var b strings.Builder
	b.WriteString(begin(lab) + eol)
	if joinedBefore {
		b.WriteString(joined + eol)
	}
	for _, e := range sorted {
		fmt.Fprintf(&b, "%s\t%s%s", e.IP, e.Host, eol)
	}
	b.WriteString(end(lab) + eol)
	return b.String()
}

// Show returns the entries of a lab's block in the file, and whether it has one.
func Show(path, lab string) ([]Entry, bool, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	_, block, _, err := split(src, lab)
	if err != nil || block == nil {
		return nil, false, err
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
	return out, true, nil
}

// Sync writes the lab's block with exactly these entries; it reports whether the file changed.
func Sync(path, lab string, entries []Entry) (bool, error) {
	return rewrite(path, lab, entries, false)
}

// Remove deletes the lab's block; it reports whether the file changed.
func Remove(path, lab string) (bool, error) { return rewrite(path, lab, nil, true) }

// rewrite replaces (or removes) the block in the file's own line endings; the bytes
// outside it stay as they are.
func rewrite(path, lab string, entries []Entry, remove bool) (bool, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	before, old, after, err := split(src, lab)
	if err != nil {
		return false, err
	}
	if old == nil && remove {
		return false, nil
	}
	eol := lineEnding(src)
	before = append([]byte{}, before...)
	joinedBefore := old != nil && bytes.HasPrefix(bytes.TrimPrefix(old, []byte(begin(lab))), []byte(eol+joined))
	if old == nil && len(before) > 0 && !bytes.HasSuffix(before, []byte("\n")) {
		before = append(before, eol...)
		joinedBefore = true
	}
	var block string
	switch {
	case !remove:
		block = render(lab, entries, eol, joinedBefore)
	case joinedBefore && len(after) == 0: // lines added after the block keep the break
		before = bytes.TrimSuffix(before, []byte(eol))
	}
	out := append(append(before, block...), after...)
	if bytes.Equal(out, src) {
		return false, nil
	}
	return true, replace(path, out)
}

// lineEnding is the file's: CRLF when its first line ends so, else LF.
func lineEnding(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// split cuts the file around the lab's block: from the line that is its begin marker to
// the line that is its end marker, each matched as a whole line (LF or CRLF). A begin
// marker without its end is an error: guessing where the block ends could delete the
// user's lines.
func split(src []byte, lab string) (before, block, after []byte, err error) {
	start := -1
	for off := 0; off < len(src); {
		next := len(src)
		if n := bytes.IndexByte(src[off:], '\n'); n >= 0 {
			next = off + n + 1
		}
		line := strings.TrimRight(string(src[off:next]), "\r\n")
		switch {
		case start < 0 && line == begin(lab):
			start = off
		case start >= 0 && line == end(lab):
			return src[:start], src[start:next], src[next:], nil
		}
		off = next
	}
	if start < 0 {
		return src, nil, nil, nil
	}
	return nil, nil, nil, fmt.Errorf("the hosts file has %q without %q: fix it by hand", begin(lab), end(lab))
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
