package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Coverage compares a DaemonSet's scheduled pods with the nodes it should run on: Linux
// nodes without a NoExecute taint. It returns "" when it runs on every one of them, or
// what falls short.
func (c *Client) Coverage(ctx context.Context, w Workload) (string, error) {
	nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("nodes: %w", err)
	}
	eligible := 0
	for _, n := range nodes.Items {
		if os := n.Labels["kubernetes.io/os"]; (os != "" && os != "linux") || noExecute(n) {
			continue
		}
		eligible++
	}
	if w.Desired < eligible {
		return fmt.Sprintf("scheduled on %d of %d Linux nodes", w.Desired, eligible), nil
	}
	return "", nil
}

func noExecute(n corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}
