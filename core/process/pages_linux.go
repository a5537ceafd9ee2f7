package process

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// DropInitPages unmaps from this process the pages of its own binary that package
// initialisation touched. Initialising Helm, client-go and the rest touches code and
// read-only data spread over the whole binary (60 to 75 MB), and the kernel maps each
// touched page cache folio (ext4 caches a binary in large folios) whole: a lab process
// starts with 30 to 50 MB of its binary resident, most of it never used again.
// MADV_DONTNEED on a private file mapping only drops this process's page table entries:
// the pages stay in the shared page cache, and one used later comes back with a minor
// fault, no disk read.
// A mapping holding a page the process wrote (its data, or what a dynamic loader
// relocated before making it read-only) is left alone: dropping it would lose the write.
func DropInitPages() {
	exe, err := os.Stat("/proc/self/exe")
	if err != nil {
		return
	}
	ino := strconv.FormatUint(exe.Sys().(*syscall.Stat_t).Ino, 10)
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	var from, to uint64 // the binary's mapping being read, or 0
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		field := strings.Fields(lines.Text())
		if len(field) >= 5 && strings.Contains(field[0], "-") { // start-end perms offset dev inode [path]
			from, to = 0, 0
			start, end, _ := strings.Cut(field[0], "-")
			if field[4] == ino && !strings.ContainsRune(field[1], 'w') {
				from, _ = strconv.ParseUint(start, 16, 64)
				to, _ = strconv.ParseUint(end, 16, 64)
			}
			continue
		}
		// Anonymous: the mapping's pages that are this process's own copies.
		if len(field) == 3 && field[0] == "Anonymous:" && field[1] == "0" && from != 0 && to > from {
			syscall.Syscall(syscall.SYS_MADVISE, uintptr(from), uintptr(to-from), syscall.MADV_DONTNEED)
		}
	}
}
