package nexoapps

import (
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

const dataNamespace = charts.DataNamespace

type env = charts.Env

// Quotas. nexo-local's is the README's quota table's, and so is every environment's at
// least; an environment given more replicas or resources gets what they need, with room
// for the surge pod of a rolling update with no unavailable replica (one nexo-be pod).
var (
	envQuota  = kube.Quota{RequestsCPU: "2000m", RequestsMemory: "3Gi", LimitsCPU: "4000m", LimitsMemory: "6Gi"}
	dataQuota = kube.Quota{RequestsCPU: "1000m", RequestsMemory: "2Gi", LimitsCPU: "2000m", LimitsMemory: "4Gi"}
)

// quota is the environment's quota: the table's, or what its pods need when more.
func quotaOf(e env) kube.Quota {
	surge := e.BE
	surge.Replicas = 1
	need, _ := kube.FootprintOf([]kube.Container{e.FE, e.BE, surge})
	q := envQuota
	q.RequestsCPU = maxQty(q.RequestsCPU, resource.NewMilliQuantity(need.CPURequestMillis, resource.DecimalSI))
	q.RequestsMemory = maxQty(q.RequestsMemory, resource.NewQuantity(need.MemoryRequestBytes, resource.BinarySI))
	q.LimitsCPU = maxQty(q.LimitsCPU, resource.NewMilliQuantity(need.CPULimitMillis, resource.DecimalSI))
	q.LimitsMemory = maxQty(q.LimitsMemory, resource.NewQuantity(need.MemoryLimitBytes, resource.BinarySI))
	return q
}

func maxQty(table string, need *resource.Quantity) string {
	if t := resource.MustParse(table); need.Cmp(t) <= 0 {
		return table
	}
	return need.String()
}

// environments resolves the config's environments, in their order.
func environments(cfg *Config) []env {
	var out []env
	for _, name := range cfg.Environments {
		ec := cfg.Environment[name]
		e := charts.NewEnv(name, cfg.Tag)
		if ec.Replicas > 0 {
			e.Replicas = ec.Replicas
		}
		if ec.Tag != "" {
			e.Tag = ec.Tag
		}
		e.FE.Replicas, e.BE.Replicas = e.Replicas, e.Replicas
		if ec.CPU != "" {
			e.BE.CPULimit, e.FE.CPULimit = ec.CPU, half(ec.CPU)
		}
		if ec.Memory != "" {
			e.BE.MemoryLimit, e.FE.MemoryLimit = ec.Memory, half(ec.Memory)
		}
		out = append(out, e)
	}
	return out
}

func half(q string) string {
	v := resource.MustParse(q)
	return resource.NewMilliQuantity(v.MilliValue()/2, v.Format).String()
}
