package logging

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/sdk"
)

// eckResource is one of the custom resources the eck-stack chart makes and ECK runs.
type eckResource struct {
	check, kind, name string
	gvr               schema.GroupVersionResource
}

var (
	esResource = eckResource{check: "elasticsearch", kind: "Elasticsearch", name: esName,
		gvr: schema.GroupVersionResource{Group: "elasticsearch.k8s.elastic.co", Version: "v1", Resource: "elasticsearches"}}
	kibanaResource = eckResource{check: "kibana", kind: "Kibana", name: kibanaName,
		gvr: schema.GroupVersionResource{Group: "kibana.k8s.elastic.co", Version: "v1", Resource: "kibanas"}}
	beatResource = eckResource{check: "filebeat", kind: "Beat", name: beatName,
		gvr: schema.GroupVersionResource{Group: "beat.k8s.elastic.co", Version: "v1beta1", Resource: "beats"}}
	eckResources = []eckResource{esResource, kibanaResource, beatResource}
)

// state is what the operator reports of a resource in its status.
type state struct {
	found bool
	// health is green, yellow, red or unknown; empty before the operator's first report.
	health, phase, version string
	available, expected    int64
	// failing are the conditions that are not true, with their messages.
	failing []string
}

// read reads a resource and its status. Expected nodes are the spec's for Elasticsearch
// (its nodeSets) and Kibana (count), the status's for a Beat (the DaemonSet's nodes).
func (r eckResource) read(ctx context.Context, s *session) (state, error) {
	o, err := s.Kube.Dynamic.Resource(r.gvr).Namespace(s.Config.Namespace).Get(ctx, r.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("%s %s: %w", r.kind, r.name, err)
	}
	st := state{found: true}
	str := func(f ...string) string { v, _, _ := unstructured.NestedString(o.Object, f...); return v }
	num := func(f ...string) int64 { v, _, _ := unstructured.NestedInt64(o.Object, f...); return v }
	st.health, st.phase, st.version = str("status", "health"), str("status", "phase"), str("status", "version")
	st.available = num("status", "availableNodes")
	switch r.kind {
	case "Elasticsearch":
		sets, _, _ := unstructured.NestedSlice(o.Object, "spec", "nodeSets")
		for _, set := range sets {
			if m, ok := set.(map[string]any); ok {
				c, _, _ := unstructured.NestedInt64(m, "count")
				st.expected += c
			}
		}
	case "Kibana":
		st.expected = num("spec", "count")
	default:
		st.expected = num("status", "expectedNodes")
	}
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			st.failing = append(st.failing, fmt.Sprintf("%v: %v", m["type"], m["message"]))
		}
	}
	return st, nil
}

// report reports a resource's health as ECK sees it: green is healthy, yellow degraded,
// red (or unknown) unhealthy, each with the reason the status gives. On a simulated
// cluster, where no operator runs, a resource without status is skipped once it is
// confirmed to exist.
func (r eckResource) report(ctx context.Context, s *session, h *sdk.Health) {
	st, err := r.read(ctx, s)
	where := r.kind + " " + s.Config.Namespace + "/" + r.name
	switch {
	case err != nil:
		h.Add(r.check, sdk.Unhealthy, "%v", err)
		return
	case !st.found:
		h.Add(r.check, sdk.Unhealthy, "%s is missing", where)
		return
	case st.health == "" && s.Simulated():
		h.SkipSimulated(r.check, fmt.Sprintf("%s exists; no operator reports its health", where))
		return
	case st.health == "":
		h.Add(r.check, sdk.Unhealthy, "the operator has not reported the health of %s yet", where)
		return
	}
	status := map[string]sdk.Status{"green": sdk.Healthy, "yellow": sdk.Degraded}[st.health]
	if status == "" {
		status = sdk.Unhealthy
	}
	switch st.phase {
	case "Invalid":
		status = sdk.Unhealthy
	case "Stalled":
		status = sdk.Worse(status, sdk.Degraded)
	}
	msg := st.health
	if st.phase != "" {
		msg += ", phase " + st.phase
	}
	msg += fmt.Sprintf(", %d/%d nodes available", st.available, st.expected)
	if st.version != "" {
		msg += ", version " + st.version
	}
	if status != sdk.Healthy {
		if st.available < st.expected {
			msg += fmt.Sprintf("; %d of %d nodes are not available", st.expected-st.available, st.expected)
		}
		if len(st.failing) > 0 {
			msg += "; " + strings.Join(st.failing, "; ")
		}
	}
	h.Add(r.check, status, "%s", msg)
}
