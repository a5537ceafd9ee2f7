package kube

import (
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/sdk"
)

// Container is the resources lab gives one container of a chart, and how many of it run.
type Container struct {
	Name string
	// Path is where the chart's values take the container's block: Path + "resources".
	// Empty when the values function places Resources() itself.
	Path []string
	// Replicas is how many run at once; 0 for what runs alone (hook Jobs, init
	// containers), which adds nothing to the footprint.
	Replicas int
	// PerNode is a container of a DaemonSet: one per node, whatever Replicas says.
	PerNode bool
	// CPU and Memory are requests, CPULimit and MemoryLimit limits ("100m", "128Mi").
	CPU, Memory, CPULimit, MemoryLimit string
}

// Resources is the container's resources block.
func (c Container) Resources() map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": c.CPU, "memory": c.Memory},
		"limits":   map[string]any{"cpu": c.CPULimit, "memory": c.MemoryLimit},
	}
}

// SetResources puts each container's resources block into values at its Path.
func SetResources(values map[string]any, cs []Container) {
	for _, c := range cs {
		if len(c.Path) == 0 {
			continue
		}
		m := values
		for _, k := range c.Path {
			sub, ok := m[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		m["resources"] = c.Resources()
	}
}

// FootprintOf sums what the containers request and may use: the fixed part, and the
// part per node (DaemonSets) that the host multiplies by the cluster's nodes.
func FootprintOf(cs []Container) (fixed, perNode sdk.Footprint) {
	for _, c := range cs {
		dst, n := &fixed, int64(c.Replicas)
		if c.PerNode {
			dst, n = &perNode, 1
		}
		dst.CPURequestMillis += n * milli(c.CPU)
		dst.MemoryRequestBytes += n * byteSize(c.Memory)
		dst.CPULimitMillis += n * milli(c.CPULimit)
		dst.MemoryLimitBytes += n * byteSize(c.MemoryLimit)
	}
	return fixed, perNode
}

func milli(q string) int64 { v := resource.MustParse(q); return v.MilliValue() }

func byteSize(q string) int64 { v := resource.MustParse(q); return v.Value() }
