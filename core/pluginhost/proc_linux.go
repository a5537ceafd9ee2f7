package pluginhost

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the plugin when the host dies, even by SIGKILL,
// so that no plugin process is left behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
