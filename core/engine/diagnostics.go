package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/archive"
	"github.com/nexolab/lab/core/kube"
)

// LogOptions tune Logs.
type LogOptions struct {
	Namespace string // empty: every namespace
	Follow    bool
	Tail      int64
}

// Logs writes the logs of the pods whose name or app.kubernetes.io/name label matches
// name, each line prefixed with its pod and container.
func (e *Engine) Logs(ctx context.Context, name string, opts LogOptions, w io.Writer) error {
	kc, err := e.client(ctx)
	if err != nil {
		return err
	}
	pods, err := kc.Kube.CoreV1().Pods(opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	found := 0
	for _, p := range pods.Items {
		if !strings.Contains(p.Name, name) && p.Labels["app.kubernetes.io/name"] != name && p.Labels["app"] != name {
			continue
		}
		for _, c := range p.Spec.Containers {
			found++
			wg.Go(func() { errs <- streamLogs(ctx, kc, p, c.Name, opts, w, &mu) })
		}
	}
	if found == 0 {
		return fmt.Errorf("no pod matches %q%s", name, inNamespace(opts.Namespace))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

func streamLogs(ctx context.Context, kc *kube.Client, p corev1.Pod, container string, opts LogOptions, w io.Writer, mu *sync.Mutex) error {
	lo := &corev1.PodLogOptions{Container: container, Follow: opts.Follow}
	if opts.Tail > 0 {
		lo.TailLines = &opts.Tail
	}
	rc, err := kc.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, lo).Stream(ctx)
	if err != nil {
		return fmt.Errorf("logs of %s/%s: %w", p.Name, container, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		mu.Lock()
		fmt.Fprintf(w, "[%s/%s] %s\n", p.Name, container, sc.Text())
		mu.Unlock()
	}
	return nil
}

// Usage is a node's use of CPU and memory, or a namespace's requests and limits against
// its quota ("used/hard").
type Usage struct {
	Name           string `json:"name"`
	CPU            string `json:"cpu,omitempty"`
	Memory         string `json:"memory,omitempty"`
	CPURequests    string `json:"cpuRequests,omitempty"`
	CPULimits      string `json:"cpuLimits,omitempty"`
	MemoryRequests string `json:"memoryRequests,omitempty"`
	MemoryLimits   string `json:"memoryLimits,omitempty"`
}

// TopReport is what `lab top` shows.
type TopReport struct {
	// Nodes come from the metrics API; empty with a reason when it is not served.
	Nodes       []Usage `json:"nodes"`
	NodesDetail string  `json:"nodesDetail,omitempty"`
	// Quotas are the lab namespaces' requests against their quotas.
	Quotas []Usage `json:"quotas"`
}

// Top reads the nodes' usage (metrics API) and every lab quota's use.
func (e *Engine) Top(ctx context.Context) (*TopReport, error) {
	kc, err := e.client(ctx)
	if err != nil {
		return nil, err
	}
	rep := &TopReport{}
	rep.Nodes, err = nodeMetrics(ctx, kc)
	if err != nil {
		rep.NodesDetail = "metrics API not served (" + firstLine(err.Error()) + "); k3s ships metrics-server"
	}
	quotas, err := kc.Kube.CoreV1().ResourceQuotas("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=lab"})
	if err != nil {
		return nil, err
	}
	for _, q := range quotas.Items {
		u := q.Status.Used
		h := q.Status.Hard
		rep.Quotas = append(rep.Quotas, Usage{Name: q.Namespace,
			CPURequests:    qty(u, corev1.ResourceRequestsCPU) + "/" + qty(h, corev1.ResourceRequestsCPU),
			CPULimits:      qty(u, corev1.ResourceLimitsCPU) + "/" + qty(h, corev1.ResourceLimitsCPU),
			MemoryRequests: qty(u, corev1.ResourceRequestsMemory) + "/" + qty(h, corev1.ResourceRequestsMemory),
			MemoryLimits:   qty(u, corev1.ResourceLimitsMemory) + "/" + qty(h, corev1.ResourceLimitsMemory)})
	}
	sort.Slice(rep.Quotas, func(i, j int) bool { return rep.Quotas[i].Name < rep.Quotas[j].Name })
	return rep, nil
}

func qty(l corev1.ResourceList, name corev1.ResourceName) string {
	if q, ok := l[name]; ok {
		return q.String()
	}
	return "-"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func nodeMetrics(ctx context.Context, kc *kube.Client) ([]Usage, error) {
	raw, err := kc.Kube.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/nodes").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name string }        `json:"metadata"`
			Usage    struct{ CPU, Memory string } `json:"usage"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	var out []Usage
	for _, n := range list.Items {
		out = append(out, Usage{Name: n.Metadata.Name, CPU: n.Usage.CPU, Memory: n.Usage.Memory})
	}
	return out, nil
}

// Troubleshoot collects what helps find a problem into one archive: lab.hcl, the plan,
// status and health, warning events, pods that are not ready and their last log lines.
// It holds no secret values; it is written whole (0600) at dest.
func (e *Engine) Troubleshoot(ctx context.Context, dest string) error {
	dir, err := os.MkdirTemp("", "lab-troubleshoot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	put := func(name string, v any) {
		var b []byte
		switch t := v.(type) {
		case string:
			b = []byte(t)
		default:
			b, _ = json.MarshalIndent(v, "", "  ")
		}
		_ = os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}
	if src, err := os.ReadFile(e.Config.Path); err == nil {
		stacks, _ := e.Validate(ctx)
		put("lab.hcl", string(redactHCL(src, stacks)))
	}
	record := func(name string, v any, err error) {
		if err != nil {
			put(name+".error.txt", err.Error())
			return
		}
		put(name, v)
	}
	plan, _, err := e.Plan(ctx)
	record("plan.json", plan, err)
	st, err := e.Status(ctx)
	record("status.json", st, err)
	health, err := e.Health(ctx, nil)
	record("health.json", health, err)
	if kc, err := e.client(ctx); err == nil {
		collectCluster(ctx, kc, dir)
	}
	return archive.Write(dest, archive.Manifest{Lab: e.Config.Lab.Name, Created: time.Now().UTC(),
		Stacks: []archive.Stack{{Name: "troubleshoot"}}}, map[string]string{"troubleshoot": dir})
}

// collectCluster writes warning events, unready pods and their last log lines.
func collectCluster(ctx context.Context, kc *kube.Client, dir string) {
	var b strings.Builder
	if evs, err := kc.Kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"}); err == nil {
		for _, ev := range evs.Items {
			fmt.Fprintf(&b, "%s %s/%s %s: %s\n", ev.LastTimestamp.Format(time.RFC3339), ev.InvolvedObject.Namespace,
				ev.InvolvedObject.Name, ev.Reason, ev.Message)
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "warning-events.txt"), []byte(b.String()), 0o600)
	pods, err := kc.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	b.Reset()
	tail := int64(200)
	for _, p := range pods.Items {
		if podReady(p) {
			continue
		}
		fmt.Fprintf(&b, "%s/%s phase=%s\n", p.Namespace, p.Name, p.Status.Phase)
		for _, cs := range p.Status.ContainerStatuses {
			fmt.Fprintf(&b, "  %s ready=%v restarts=%d state=%s\n", cs.Name, cs.Ready, cs.RestartCount, containerState(cs))
			logs, err := kc.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: cs.Name, TailLines: &tail}).DoRaw(ctx)
			if err == nil {
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("log-%s-%s-%s.txt", p.Namespace, p.Name, cs.Name)), logs, 0o600)
			}
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "unready-pods.txt"), []byte(b.String()), 0o600)
}

func podReady(p corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded {
		return true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func containerState(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Waiting != nil:
		return "waiting: " + cs.State.Waiting.Reason
	case cs.State.Terminated != nil:
		return fmt.Sprintf("terminated: %s (exit %d)", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
	}
	return "running"
}
