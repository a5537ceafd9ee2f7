package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/config"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/state"
)

// LabStatus is the cluster, its nodes and the stacks, as `lab status` shows them.
type LabStatus struct {
	Cluster ClusterPlan   `json:"cluster"`
	Nodes   []Node        `json:"nodes,omitempty"`
	Stacks  []StackStatus `json:"stacks"`
}

// Node is one node of the cluster.
type Node struct {
	Name    string `json:"name"`
	Roles   string `json:"roles"`
	Ready   bool   `json:"ready"`
	Version string `json:"version"`
	CPU     string `json:"cpu"`
	Memory  string `json:"memory"`
}

// StackStatus is what lab knows of one stack.
type StackStatus struct {
	Name          string        `json:"name"`
	Enabled       bool          `json:"enabled"`
	State         string        `json:"state"` // installed, failed, not installed
	PluginVersion string        `json:"pluginVersion,omitempty"`
	UpdatedAt     time.Time     `json:"updatedAt,omitzero"`
	Releases      []sdk.Release `json:"releases,omitempty"`
	Error         string        `json:"error,omitempty"`
}

// Status reads the cluster, its nodes and the recorded stacks. It launches no plugin.
func (e *Engine) Status(ctx context.Context) (*LabStatus, error) {
	st, err := e.Provider.Status(ctx)
	out := &LabStatus{}
	if err != nil {
		out.Cluster = ClusterPlan{Provider: e.Provider.Kind(), Name: e.Provider.Name(), Action: Unreachable, Detail: err.Error()}
		out.Stacks = stackStatuses(e.Config.Stacks, nil)
		return out, nil
	}
	out.Cluster = clusterPlan(e.Provider, st)
	if !st.Running {
		out.Stacks = stackStatuses(e.Config.Stacks, nil)
		return out, nil
	}
	kc, err := e.client(ctx)
	if err != nil {
		return nil, err
	}
	if out.Nodes, err = nodes(ctx, kc); err != nil {
		return nil, err
	}
	records, err := state.New(kc.Kube).List(ctx)
	if err != nil {
		return nil, err
	}
	out.Stacks = stackStatuses(e.Config.Stacks, records)
	return out, nil
}

func nodes(ctx context.Context, kc *kube.Client) ([]Node, error) {
	list, err := kc.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []Node
	for _, n := range list.Items {
		node := Node{Name: n.Name, Roles: roles(n), Version: n.Status.NodeInfo.KubeletVersion,
			CPU: n.Status.Allocatable.Cpu().String(), Memory: n.Status.Allocatable.Memory().String()}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				node.Ready = c.Status == corev1.ConditionTrue
			}
		}
		out = append(out, node)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func roles(n corev1.Node) string {
	var rs []string
	for l := range n.Labels {
		if r, ok := strings.CutPrefix(l, "node-role.kubernetes.io/"); ok {
			rs = append(rs, r)
		}
	}
	sort.Strings(rs)
	if len(rs) == 0 {
		return "-"
	}
	return strings.Join(rs, ",")
}

// stackStatuses lists the stacks of lab.hcl, then recorded stacks no longer in it.
func stackStatuses(blocks []*config.Stack, records map[string]state.Record) []StackStatus {
	var out []StackStatus
	seen := map[string]bool{}
	for _, b := range blocks {
		seen[b.Name] = true
		out = append(out, stackStatus(b.Name, b.Enabled, records))
	}
	for _, name := range state.Names(records) {
		if !seen[name] {
			out = append(out, stackStatus(name, false, records))
		}
	}
	return out
}

func stackStatus(name string, enabled bool, records map[string]state.Record) StackStatus {
	s := StackStatus{Name: name, Enabled: enabled, State: "not installed"}
	if r, ok := records[name]; ok {
		s.State, s.PluginVersion, s.UpdatedAt, s.Releases, s.Error = r.Status, r.PluginVersion, r.UpdatedAt, r.Releases, r.Error
	}
	return s
}

// WaitNodes waits until every node is Ready, or ctx ends.
func WaitNodes(ctx context.Context, conn sdk.Cluster) error {
	kc, err := kube.Connect(conn, nil)
	if err != nil {
		return err
	}
	for {
		ns, err := nodes(ctx, kc)
		ready := err == nil && len(ns) > 0
		for _, n := range ns {
			ready = ready && n.Ready
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes not ready: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
