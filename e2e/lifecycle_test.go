package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nexolab/lab/core/state"
)

// helmRevisions counts the stored revisions of a Helm release.
func helmRevisions(t *testing.T, ns, release string) int {
	s, err := client(t).Kube.CoreV1().Secrets(ns).List(context.Background(),
		metav1.ListOptions{LabelSelector: "owner=helm,name=" + release})
	require.NoError(t, err)
	return len(s.Items)
}

// watchWrites watches the Leases, ConfigMaps and Secrets of namespaces from now on; the
// returned function stops and lists what was written.
func watchWrites(t *testing.T, namespaces ...string) func() []string {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var seen []string
	var wg sync.WaitGroup
	kc := client(t).Kube
	for _, ns := range namespaces {
		for kind, w := range map[string]func(context.Context, metav1.ListOptions) (watch.Interface, error){
			"lease": kc.CoordinationV1().Leases(ns).Watch, "configmap": kc.CoreV1().ConfigMaps(ns).Watch, "secret": kc.CoreV1().Secrets(ns).Watch,
		} {
			// Only changes from now on: the watch starts at the current state, whose
			// initial events it sends first, up to the bookmark that ends them.
			ch, err := w(ctx, metav1.ListOptions{SendInitialEvents: ptr(true), AllowWatchBookmarks: true,
				ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
			require.NoError(t, err)
			synced := make(chan struct{})
			wg.Go(func() {
				initial := true
				for ev := range ch.ResultChan() {
					if ev.Type == watch.Bookmark && initial {
						initial = false
						close(synced)
						continue
					}
					if initial || ev.Type == watch.Bookmark || ctx.Err() != nil {
						continue // the error that ends the stream when we stop it, too
					}
					mu.Lock()
					seen = append(seen, fmt.Sprintf("%s %s %s/%s", ev.Type, kind, ns, objectName(ev.Object)))
					mu.Unlock()
				}
			})
			select {
			case <-synced:
			case <-time.After(30 * time.Second):
				t.Fatalf("watch of %s in %s did not start", kind, ns)
			}
			t.Cleanup(ch.Stop)
		}
	}
	return func() []string {
		time.Sleep(time.Second) // events of the last writes arrive
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func ptr[T any](v T) *T { return &v }

func objectName(o runtime.Object) string {
	if st, ok := o.(*metav1.Status); ok {
		return st.Message
	}
	if m, err := meta.Accessor(o); err == nil {
		return m.GetName()
	}
	return fmt.Sprintf("%T", o)
}

// The ingress stack's whole life, as a user runs it: apply, health, re-apply, plan,
// switch controller, remove the block, destroy.
func TestIngressLifecycle(t *testing.T) {
	ctx := context.Background()
	l := newLab(t, header("life.local")+ingressBlock("nginx"))

	l.ok("validate")
	plan := l.ok("plan")
	assert.Regexp(t, `ingress\s+install\s+1\s+not installed`, plan.stdout)

	l.ok("apply")
	assert.Equal(t, 1, helmRevisions(t, "ingress", "ingress-nginx"))

	h := l.ok("health", "-o", "json")
	var report []map[string]any
	require.NoError(t, json.Unmarshal([]byte(h.stdout), &report))
	require.Len(t, report, 1)
	assert.Equal(t, "healthy", report[0]["status"])
	checks := map[string]string{}
	for _, c := range report[0]["checks"].([]any) {
		m := c.(map[string]any)
		checks[m["name"].(string)] = m["status"].(string)
	}
	assert.Equal(t, map[string]string{"controller rollout": "healthy", "ingress class": "healthy", "controller probe": "skipped",
		"default certificate": "healthy"}, checks)

	// A second apply changes nothing: no new Helm revision, and plan says so.
	l.ok("apply")
	assert.Equal(t, 1, helmRevisions(t, "ingress", "ingress-nginx"), "a no-op apply must not make a Helm revision")
	assert.Regexp(t, `ingress\s+unchanged`, l.ok("plan").stdout)

	written := watchWrites(t, "lab-system", "ingress")
	assert.Contains(t, l.ok("apply").stderr, "plugin not launched", "an unchanged stack is verified without its plugin")
	assert.Empty(t, written(), "a no-op apply only reads: no lock, state, certificate or release is written")

	// Drift: a workload deleted by hand is seen and re-created by the next apply.
	require.NoError(t, client(t).Kube.AppsV1().DaemonSets("ingress").Delete(ctx, "ingress-nginx-controller", metav1.DeleteOptions{}))
	repaired := l.ok("apply")
	assert.Contains(t, repaired.stderr, "lost daemonset ingress/ingress-nginx-controller (missing); upgrading to re-create it")
	_, err := client(t).Kube.AppsV1().DaemonSets("ingress").Get(ctx, "ingress-nginx-controller", metav1.GetOptions{})
	require.NoError(t, err)
	l.ok("health")

	// The state lives in the cluster: a lab folder on another machine plans the same.
	other := newLab(t, header("life.local")+ingressBlock("nginx"))
	assert.Regexp(t, `ingress\s+unchanged`, other.ok("plan").stdout)

	// Switching the controller replaces the release.
	l.write(header("life.local") + ingressBlock("traefik"))
	assert.Regexp(t, `ingress\s+upgrade\s+1\s+config changed`, l.ok("plan").stdout)
	l.ok("apply")
	assert.Equal(t, 0, helmRevisions(t, "ingress", "ingress-nginx"), "the nginx release is gone")
	assert.Equal(t, 1, helmRevisions(t, "ingress", "traefik"))
	l.ok("health", "ingress")

	// Removing the block uninstalls the stack on the next apply; plan says it first.
	l.write(header("life.local"))
	assert.Regexp(t, `ingress\s+uninstall\s+-\s+no longer enabled`, l.ok("plan").stdout)
	l.ok("apply")
	_, err = client(t).Kube.CoreV1().Namespaces().Get(ctx, "ingress", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "namespace ingress is deleted")
	records, err := state.New(client(t).Kube).List(ctx)
	require.NoError(t, err)
	assert.NotContains(t, records, "ingress")

	// Back again, then destroy: every stack goes, the existing cluster stays.
	l.write(header("life.local") + ingressBlock("nginx"))
	l.ok("apply")
	d := l.ok("destroy", "--yes")
	assert.Contains(t, d.stdout, "destroy: 1 ok, 0 failed")
	_, err = client(t).Kube.CoreV1().Namespaces().Get(ctx, state.Namespace, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err) || err == nil) // lab-system is deleted (may still be terminating)
	records, err = state.New(client(t).Kube).List(ctx)
	require.NoError(t, err)
	assert.Empty(t, records)
	_, err = client(t).Kube.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	assert.NoError(t, err, "the existing cluster is not deleted")
}
