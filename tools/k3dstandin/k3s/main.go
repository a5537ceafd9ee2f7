// Command k3s is a stand-in for the k3s binary of the rancher/k3s image, for tests only: it
// lets the k3d library create, start, stop and delete a real cluster on a Docker engine that
// cannot pull images. It is never shipped to users.
//
// As `k3s server` it runs a real control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, the binaries of the kwok test cluster) serving the Kubernetes API
// on 6443, writes the kubeconfig where k3s writes it and prints the log lines k3d waits for.
// As `k3s agent` it registers its container as a node of that API server. kwok keeps every
// node Ready and runs their pods as simulated pods: no kubelet and no container of a pod runs.
//
// The same binary answers as kubectl (cordon, uncordon, drain: what k3d's entrypoint runs) and
// as iptables-save/iptables-restore (k3d's DNS fix), by the name it is called under.
package main

import (
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	log.SetFlags(0)
	log.SetOutput(os.Stderr)
	log.SetPrefix("")
	args := os.Args[1:]
	name := filepath.Base(os.Args[0])
	if name == "k3s" && len(args) > 0 && args[0] == "kubectl" {
		name, args = "kubectl", args[1:]
	}
	var err error
	switch name {
	case "kubectl":
		err = kubectl(args)
	case "iptables-save", "iptables-restore":
		err = iptables(name)
	default:
		if len(args) == 0 {
			err = fmt.Errorf("usage: k3s server|agent [flags] (the k3s stand-in of the lab's tests)")
			break
		}
		undoDNSFix()
		switch args[0] {
		case "server":
			err = server(parseFlags(args[1:]))
		case "agent":
			err = agent(parseFlags(args[1:]))
		default:
			err = fmt.Errorf("the k3s stand-in has no %q command; it runs only as server or agent", args[0])
		}
	}
	if err != nil {
		logf("error", "%v", err)
		if name == "k3s" {
			endContainer()
		}
		os.Exit(1)
	}
}

// endContainer stops the shell of k3d's entrypoint when k3s fails: it starts k3s in the
// background and loops on kubectl, so without this a dead server would leave a running
// container that k3d waits on until its timeout. Ending the shell ends the container, and
// Docker's restart policy and k3d's crash-loop detection see the failure.
func endContainer() {
	if ppid := os.Getppid(); ppid > 1 {
		if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", ppid)); strings.Contains(string(cmd), "k3d-entrypoint") {
			_ = syscall.Kill(ppid, syscall.SIGTERM)
		}
	}
}

// logf prints a line in k3s's logrus format, the one k3d scans for its ready messages.
func logf(level, format string, a ...any) {
	log.Printf("level=%s msg=%q", level, fmt.Sprintf(format, a...))
}

// stopSignal is closed when Docker asks the container to stop.
func stopSignal() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP)
	return c
}

// undoDNSFix puts back the resolv.conf that k3d's DNS fix replaced. The fix points it at
// the network's gateway, where the iptables rules it also writes would forward to Docker's
// DNS; the stand-in has no iptables, so without this no node could resolve another's name.
func undoDNSFix() {
	const saved = "/etc/resolv.conf.original"
	b, err := os.ReadFile(saved)
	if err != nil {
		return
	}
	if err := os.WriteFile("/etc/resolv.conf", b, 0o644); err == nil {
		logf("info", "stand-in: restored /etc/resolv.conf from %s (no iptables for k3d's DNS fix)", saved)
	}
}

// iptables stands in for the two iptables commands of k3d's DNS fix. The image has no
// iptables, so the fix is reported as not applied; the rules it rewrites serve only the DNS
// of pods, which the stand-in does not run.
func iptables(name string) error {
	if name == "iptables-restore" {
		_, _ = os.Stdin.Read(make([]byte, 1<<16))
	}
	fmt.Fprintf(os.Stderr, "%s: the k3s stand-in has no iptables; k3d's DNS fix is not applied\n", name)
	return nil
}
