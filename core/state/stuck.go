package state

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Stuck names what holds a terminating namespace: every object in it that still has
// finalizers ("configmaps/x (finalizers: example.com/hold)"), else the namespace's own
// conditions. It looks for at most 10 s and never fails: it only explains.
func Stuck(ctx context.Context, kube kubernetes.Interface, namespace string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	lists, _ := kube.Discovery().ServerPreferredNamespacedResources() // partial lists still help
	var held []string
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !strings.Contains(strings.Join(r.Verbs, ","), "list") {
				continue
			}
			held = append(held, withFinalizers(ctx, kube, gv, r.Name, namespace)...)
		}
	}
	sort.Strings(held)
	if len(held) > 0 {
		return strings.Join(held, ", ")
	}
	ns, err := kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	var why []string
	for _, c := range ns.Status.Conditions {
		if c.Status == "True" {
			why = append(why, c.Message)
		}
	}
	if len(why) == 0 {
		return "nothing in it is known to hold it"
	}
	return strings.Join(why, "; ")
}

func withFinalizers(ctx context.Context, kube kubernetes.Interface, gv schema.GroupVersion, resource, namespace string) []string {
	base := path.Join("/apis", gv.Group, gv.Version)
	if gv.Group == "" {
		base = path.Join("/api", gv.Version)
	}
	b, err := kube.Discovery().RESTClient().Get().AbsPath(base, "namespaces", namespace, resource).DoRaw(ctx)
	if err != nil {
		return nil
	}
	var list struct {
		Items []struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		} `json:"items"`
	}
	if json.Unmarshal(b, &list) != nil {
		return nil
	}
	var out []string
	for _, it := range list.Items {
		if len(it.Metadata.Finalizers) > 0 {
			out = append(out, fmt.Sprintf("%s/%s (finalizers: %s)", resource, it.Metadata.Name, strings.Join(it.Metadata.Finalizers, ", ")))
		}
	}
	return out
}
