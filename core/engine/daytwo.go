package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/hosts"
	"github.com/nexolab/lab/core/kube"
)

// client connects to the running cluster.
func (e *Engine) client(ctx context.Context) (*kube.Client, error) {
	conn, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	return kube.Connect(conn, e.log())
}

// Dashboards maps each UI of the enabled stacks to its URL, from the plugins' cached Info.
func (e *Engine) Dashboards(ctx context.Context) (map[string]string, error) {
	stacks, err := e.valid(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range stacks {
		for ui, prefix := range s.Plugin.Info.Dashboards {
			if !strings.Contains(prefix, "://") {
				prefix = "http://" + prefix
			}
			out[ui] = prefix + "." + e.Config.Lab.Domain
		}
	}
	return out, nil
}

// HostEntries lists every host under the lab's domain that an Ingress of the cluster
// serves, plus the dashboards of the enabled stacks, all at ip.
func (e *Engine) HostEntries(ctx context.Context, ip string) ([]hosts.Entry, error) {
	kc, err := e.client(ctx)
	if err != nil {
		return nil, err
	}
	ings, err := kc.Kube.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list ingresses: %w", err)
	}
	domain := e.Config.Lab.Domain
	set := map[string]bool{}
	for _, ing := range ings.Items {
		for _, r := range ing.Spec.Rules {
			if r.Host == domain || strings.HasSuffix(r.Host, "."+domain) {
				set[r.Host] = true
			}
		}
	}
	dash, err := e.Dashboards(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range dash {
		_, host, _ := strings.Cut(u, "://")
		set[host] = true
	}
	names := make([]string, 0, len(set))
	for h := range set {
		names = append(names, h)
	}
	sort.Strings(names)
	out := make([]hosts.Entry, len(names))
	for i, h := range names {
		out[i] = hosts.Entry{IP: ip, Host: h}
	}
	return out, nil
}
