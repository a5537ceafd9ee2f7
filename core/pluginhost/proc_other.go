//go:build !linux

package pluginhost

import "os/exec"

// dieWithParent has no portable equivalent; Host.Close ends plugins on a normal exit.
func dieWithParent(*exec.Cmd) {}
