package kwok

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Components are the processes kwokctl runs for a cluster of the binary runtime.
var Components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"}

// settle is how long a cluster must stay whole to count: a component that cannot bind
// its port dies within it, while restarted nodes may still show their last Ready status.
const settle = 2 * time.Second

// WholeTimeout bounds how long a new or started cluster may take to be whole.
var WholeTimeout = 90 * time.Second

// createLock serialises kwok creations and starts across every process of the machine:
// kwokctl picks free ports when it creates a cluster, so two at once could pick the
// same ones and one component would fail to bind.
func createLock() string { return filepath.Join(os.TempDir(), "lab-kwok-create.lock") }

// lockWait bounds waiting for another process's creation.
const lockWait = 5 * time.Minute

// lockFile takes an exclusive lock across processes, waiting at most lockWait; the
// returned func releases it. The kernel releases it when its holder dies.
func lockFile(ctx context.Context, path string) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644) // read-only: any user can lock a file root made
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("another kwok cluster is being created (%s is locked): %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Whole waits until every component runs and every node is Ready, within WholeTimeout.
// A component that is not running fails it at once, naming the component and the last
// line of its log.
func (p *Provider) Whole(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, WholeTimeout)
	defer cancel()
	var since time.Time // whole since then
	for {
		if err := p.componentsRunning(); err != nil {
			return err
		}
		ready, err := p.readyNodes(ctx)
		switch {
		case err != nil || ready < p.cfg.Nodes:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= settle:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kwok cluster %s: %d of %d nodes Ready after %s (%v); kwok-controller's log ends: %s",
				p.cfg.Name, ready, p.cfg.Nodes, WholeTimeout, err, p.lastLogLine("kwok-controller"))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func (p *Provider) componentsRunning() error {
	for _, c := range Components {
		if pid := p.componentPid(c); pid > 0 && alive(pid) {
			continue
		}
		return fmt.Errorf("kwok cluster %s: %s is not running; the last line of %s: %s",
			p.cfg.Name, c, p.logPath(c), p.lastLogLine(c))
	}
	return nil
}

// pidFile is where kwokctl records a component's process.
func (p *Provider) pidFile(component string) string {
	return filepath.Join(p.dir(), "pids", component+".pid")
}

// componentPid is the process kwokctl recorded for a component, or 0.
func (p *Provider) componentPid(component string) int {
	b, err := os.ReadFile(p.pidFile(component))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// forgetExited removes the pid files of components that have exited, so that kwokctl
// starts them again: it takes a zombie for a running process, and where no init reaps
// orphans (a container's first process, for one) a dead component stays a zombie.
func (p *Provider) forgetExited() {
	for _, c := range Components {
		if pid := p.componentPid(c); pid > 0 && !alive(pid) {
			_ = os.Remove(p.pidFile(c))
		}
	}
}

// alive says whether a process runs; a zombie has exited and let go of its ports.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(b, ')')
	return err != nil || i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// stopTimeout bounds waiting for stopped components to exit.
const stopTimeout = 30 * time.Second

// waitExited waits until every component that ran has exited, within stopTimeout.
func (p *Provider) waitExited(ctx context.Context, pids map[string]int) error {
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	for c, pid := range pids {
		for alive(pid) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("kwok cluster %s: %s (pid %d) still runs after its stop: %w", p.cfg.Name, c, pid, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func (p *Provider) logPath(component string) string {
	return filepath.Join(p.dir(), "logs", component+".log")
}

// lastLogLine is the last line of a component's log that says something.
func (p *Provider) lastLogLine(component string) string {
	b, err := os.ReadFile(p.logPath(component))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) == 0 || len(lines[len(lines)-1]) == 0 {
		return "(empty log)"
	}
	return string(lines[len(lines)-1])
}

func (p *Provider) readyNodes(ctx context.Context) (int, error) {
	b, err := os.ReadFile(p.kubeconfigPath())
	if err != nil {
		return 0, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(b)
	if err != nil {
		return 0, err
	}
	cfg.Timeout = 5 * time.Second
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready, nil
}
