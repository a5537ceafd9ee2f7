package pluginhost

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-plugin"
)

// identify names a file's content without reading it: its inode, size, modification and
// change times. A user can set the modification time back but not the change time, so a
// rewrite in place is noticed too.
func identify(st os.FileInfo) fileID {
	s := st.Sys().(*syscall.Stat_t)
	return fileID{Dev: s.Dev, Ino: s.Ino, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Ctime: s.Ctim.Nano()}
}

// command starts the plugin from the very file the host opened and checked: the child
// gets it as fd 3 and the kernel runs /proc/self/fd/3, so a binary renamed over the path
// after the check never runs. That is why go-plugin's SecureConfig, which would read the
// whole binary again on every launch, is not needed here. argv[0] stays the plugin's path:
// a multi-call binary (lab-plugins) and testkit tell which stack to be from it.
func command(path string, f *os.File, _ string) (*exec.Cmd, *plugin.SecureConfig) {
	cmd := &exec.Cmd{Path: "/proc/self/fd/3", Args: []string{path}, ExtraFiles: []*os.File{f}}
	// The kernel kills the plugin when the host dies, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// peakRSS is a running process's peak resident memory in KiB (VmHWM), or 0. Not the
// rusage of the ended process: the kernel counts into that the memory of the host the
// plugin was spawned from.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kib
		}
	}
	return 0
}
