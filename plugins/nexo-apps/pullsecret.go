package nexoapps

import (
	"context"
	"encoding/base64"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
)

// harborPullLabel marks the harbor stack's pull secrets; its value is the project.
const harborPullLabel = "lab.nexolab.dev/harbor-pull"

// copyPullSecret gives each environment namespace the harbor stack's pull secret of
// project nexo, when Harbor is there: nexo-apps makes its namespaces after Harbor ran, so
// without this copy the first apply would need a second one. The copy stays the harbor
// stack's (its labels), so Harbor keeps it current when the robot's password changes.
func copyPullSecret(ctx context.Context, s *session) (bool, error) {
	list, err := s.Kube.Kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: harborPullLabel + "=nexo", Limit: 1})
	if err != nil || len(list.Items) == 0 {
		return false, kube.IgnoreNotFound(err)
	}
	src := list.Items[0]
	changed := false
	for _, e := range environments(s.Config) {
		if e.Namespace == src.Namespace {
			continue
		}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": pullSecret, "namespace": e.Namespace, "labels": anyMap(src.Labels)},
			"type":     string(src.Type),
			"data":     bytesMap(src.Data),
		}}
		ch, err := s.Kube.ApplyObject(ctx, e.Namespace, obj)
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	return changed, nil
}

// bytesMap is Secret data as the API's JSON has it: base64.
func bytesMap(m map[string][]byte) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = base64.StdEncoding.EncodeToString(v)
	}
	return out
}
