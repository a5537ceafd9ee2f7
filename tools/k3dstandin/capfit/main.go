// Command capfit-runc is an OCI runtime wrapper for Docker engines that run inside a
// sandbox whose capability bounding set lacks some capabilities (on the lab's CI machines,
// CAP_SYS_RESOURCE). Docker grants a privileged container every capability, which runc
// then cannot apply ("unable to apply caps: operation not permitted"), and k3d runs every
// node privileged. Before handing over to runc, capfit-runc drops from the container's
// config the capabilities this process cannot hold itself. .ci/setup-docker.sh starts
// dockerd with it only on such machines; it is never used elsewhere.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames are Linux's capabilities by number.
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
	"SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE",
	"MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE"}

func main() {
	runc, err := exec.LookPath("runc")
	if err == nil {
		err = fitFiles(os.Args[1:])
	}
	if err == nil {
		err = syscall.Exec(runc, append([]string{"runc"}, os.Args[1:]...), os.Environ())
	}
	fmt.Fprintln(os.Stderr, "capfit-runc:", err)
	os.Exit(1)
}

// fitFiles fits the config of runc create/run (config.json of --bundle) and of runc exec
// (the --process file).
func fitFiles(args []string) error {
	for i, a := range args {
		for _, f := range []struct{ flag, short, file string }{{"--bundle", "-b", "config.json"}, {"--process", "-p", ""}} {
			value, ok := strings.CutPrefix(a, f.flag+"=")
			if !ok && (a == f.flag || a == f.short) && i+1 < len(args) {
				value, ok = args[i+1], true
			}
			if !ok {
				continue
			}
			if f.file != "" {
				value = filepath.Join(value, f.file)
			}
			if err := fit(value, f.file != ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// fit removes from an OCI config (or, with inProcess false, a process spec) the
// capabilities outside this process's bounding set, keeping every other field as it is.
func fit(path string, inProcess bool) error {
	allowed, err := bounding()
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	process := cfg
	if inProcess {
		if err := json.Unmarshal(cfg["process"], &process); err != nil {
			return err
		}
	}
	if process["capabilities"] == nil {
		return nil
	}
	var caps map[string][]string
	if err := json.Unmarshal(process["capabilities"], &caps); err != nil {
		return err
	}
	for set, list := range caps {
		kept := list[:0]
		for _, c := range list {
			if allowed[c] {
				kept = append(kept, c)
			}
		}
		caps[set] = kept
	}
	if process["capabilities"], err = json.Marshal(caps); err != nil {
		return err
	}
	if inProcess {
		if cfg["process"], err = json.Marshal(process); err != nil {
			return err
		}
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// bounding reads CapBnd of this process; capabilities the kernel knows but capNames does
// not are kept by name only when they are in the set.
func bounding() (map[string]bool, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		hex, ok := strings.CutPrefix(s.Text(), "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return nil, err
		}
		allowed := map[string]bool{}
		for i, name := range capNames {
			if mask&(1<<i) != 0 {
				allowed["CAP_"+name] = true
			}
		}
		return allowed, nil
	}
	return nil, fmt.Errorf("no CapBnd in /proc/self/status")
}
