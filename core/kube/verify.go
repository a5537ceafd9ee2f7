package kube

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"

	"github.com/nexolab/lab/core/sdk"
)

// Verifier checks recorded releases the cheap way, for a no-op apply: the release
// Secrets' labels (their metadata only, never the release bodies, which hold the whole
// chart) and one list of each workload kind per namespace, shared by every release it
// verifies. It is safe for concurrent use.
type Verifier struct {
	c    *Client
	meta metadata.Interface
	mu   sync.Mutex
	ns   map[string]*namespaceView
}

// namespaceView is what the Verifier read of one namespace, once.
type namespaceView struct {
	once      sync.Once
	releases  map[string]releaseHead // by release name
	workloads map[string]Workload    // by "Kind/name"
	err       error
}

// releaseHead is the newest revision of a release and its status, from Helm's labels.
type releaseHead struct {
	version int
	status  string
}

// NewVerifier returns a Verifier on the client's cluster.
func (c *Client) NewVerifier() (*Verifier, error) {
	m, err := metadata.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	return &Verifier{c: c, meta: m, ns: map[string]*namespaceView{}}, nil
}

// Verify reports whether a recorded release is deployed at its recorded revision with
// every recorded workload rolled out; when not, the reason says what differs. A record
// that names no workloads (made by an older lab) is verified by reading the release.
func (v *Verifier) Verify(ctx context.Context, rel sdk.Release) (bool, string, error) {
	if len(rel.Workloads) == 0 {
		return v.c.Verify(ctx, rel.Name, rel.Namespace, rel.Revision)
	}
	view := v.view(ctx, rel.Namespace)
	if view.err != nil {
		return false, "", view.err
	}
	head, ok := view.releases[rel.Name]
	switch {
	case !ok:
		return false, fmt.Sprintf("release %s is gone", rel.Name), nil
	case head.version != rel.Revision:
		return false, fmt.Sprintf("release %s is at revision %d, lab installed %d", rel.Name, head.version, rel.Revision), nil
	case head.status != "deployed":
		return false, fmt.Sprintf("release %s is %s", rel.Name, head.status), nil
	}
	for _, ref := range rel.Workloads {
		kind, rest, _ := strings.Cut(ref, "/")
		ns, name, _ := strings.Cut(rest, "/")
		wv := view
		if ns != rel.Namespace {
			if wv = v.view(ctx, ns); wv.err != nil {
				return false, "", wv.err
			}
		}
		w, ok := wv.workloads[kind+"/"+name]
		if !ok {
			return false, fmt.Sprintf("%s %s/%s (missing)", strings.ToLower(kind), ns, name), nil
		}
		if !w.Done {
			return false, w.String(), nil
		}
	}
	return true, "", nil
}

// Prefetch reads the namespaces every release of rels is verified in, all at once, so
// that verifying a stack with releases in several namespaces waits for one read, not one
// after another.
func (v *Verifier) Prefetch(ctx context.Context, rels []sdk.Release) {
	seen := map[string]bool{}
	var wg sync.WaitGroup
	read := func(ns string) {
		if !seen[ns] {
			seen[ns] = true
			wg.Go(func() { v.view(ctx, ns) })
		}
	}
	for _, rel := range rels {
		if len(rel.Workloads) == 0 {
			continue // verified by reading the release itself
		}
		read(rel.Namespace)
		for _, ref := range rel.Workloads {
			_, rest, _ := strings.Cut(ref, "/")
			ns, _, _ := strings.Cut(rest, "/")
			read(ns)
		}
	}
	wg.Wait()
}

func (v *Verifier) view(ctx context.Context, ns string) *namespaceView {
	v.mu.Lock()
	view, ok := v.ns[ns]
	if !ok {
		view = &namespaceView{}
		v.ns[ns] = view
	}
	v.mu.Unlock()
	view.once.Do(func() { view.err = v.read(ctx, ns, view) })
	return view
}

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// read lists a namespace's Helm release Secrets (metadata only) and its workloads.
func (v *Verifier) read(ctx context.Context, ns string, view *namespaceView) error {
	var (
		secrets *metav1.PartialObjectMetadataList
		deps    *appsv1.DeploymentList
		sts     *appsv1.StatefulSetList
		dss     *appsv1.DaemonSetList
	)
	apps, all := v.c.Kube.AppsV1(), metav1.ListOptions{}
	var g errgroup.Group // the four reads at once: a no-op apply is mostly waiting on them
	g.Go(func() (err error) {
		secrets, err = v.meta.Resource(secretsGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil {
			err = fmt.Errorf("release secrets of %s: %w", ns, err)
		}
		return err
	})
	g.Go(func() (err error) { deps, err = apps.Deployments(ns).List(ctx, all); return err })
	g.Go(func() (err error) { sts, err = apps.StatefulSets(ns).List(ctx, all); return err })
	g.Go(func() (err error) { dss, err = apps.DaemonSets(ns).List(ctx, all); return err })
	if err := g.Wait(); err != nil {
		return err
	}
	view.releases = map[string]releaseHead{}
	for _, s := range secrets.Items {
		name := s.Labels["name"]
		version, err := strconv.Atoi(s.Labels["version"])
		if err != nil || name == "" {
			continue
		}
		if head, ok := view.releases[name]; !ok || version > head.version {
			view.releases[name] = releaseHead{version: version, status: s.Labels["status"]}
		}
	}
	view.workloads = map[string]Workload{}
	for i := range deps.Items {
		view.add(deploymentState(&deps.Items[i]))
	}
	for i := range sts.Items {
		view.add(statefulSetState(&sts.Items[i]))
	}
	for i := range dss.Items {
		view.add(daemonSetState(&dss.Items[i]))
	}
	return nil
}

func (view *namespaceView) add(w Workload) { view.workloads[w.Kind+"/"+w.Name] = w }
