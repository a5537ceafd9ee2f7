package kube

import (
	"context"
	"fmt"
	"strconv"
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
// chart) and one cluster-wide list of each workload kind, read once, at the first Verify,
// and shared by every release it verifies. Four requests whatever the number of stacks and
// namespaces: per namespace, the full lab's no-op sent 24, and the API server's share of
// its time grew with them. It is safe for concurrent use.
type Verifier struct {
	c         *Client
	once      sync.Once
	releases  map[string]releaseHead // by "namespace/name"
	workloads map[string]Workload    // by "Kind/namespace/name"
	err       error
}

// releaseHead is the newest revision of a release and its status, from Helm's labels.
type releaseHead struct {
	version int
	status  string
}

// NewVerifier returns a Verifier on the client's cluster; it reads nothing yet.
func (c *Client) NewVerifier() *Verifier { return &Verifier{c: c} }

// Verify reports whether a recorded release is deployed at its recorded revision with
// every recorded workload rolled out; when not, the reason says what differs. A release
// that has no workloads (only custom resources, say) is verified by its labels alone.
func (v *Verifier) Verify(ctx context.Context, rel sdk.Release) (bool, string, error) {
	if v.once.Do(func() { v.err = v.read(ctx) }); v.err != nil {
		return false, "", v.err
	}
	head, ok := v.releases[rel.Namespace+"/"+rel.Name]
	switch {
	case !ok:
		return false, fmt.Sprintf("release %s is gone", rel.Name), nil
	case head.version != rel.Revision:
		return false, fmt.Sprintf("release %s is at revision %d, lab installed %d", rel.Name, head.version, rel.Revision), nil
	case head.status != "deployed":
		return false, fmt.Sprintf("release %s is %s", rel.Name, head.status), nil
	}
	for _, ref := range rel.Workloads {
		w, ok := v.workloads[ref]
		if !ok {
			return false, workloadOf(ref).String(), nil
		}
		if !w.Done {
			return false, w.String(), nil
		}
	}
	return true, "", nil
}

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// read lists the cluster's Helm release Secrets (metadata only) and its workloads.
func (v *Verifier) read(ctx context.Context) error {
	meta, err := metadata.NewForConfig(v.c.Config)
	if err != nil {
		return err
	}
	var (
		secrets *metav1.PartialObjectMetadataList
		deps    *appsv1.DeploymentList
		sts     *appsv1.StatefulSetList
		dss     *appsv1.DaemonSetList
	)
	apps, all := v.c.Kube.AppsV1(), metav1.ListOptions{}
	var g errgroup.Group // the four reads at once: a no-op apply is mostly waiting on them
	g.Go(func() (err error) {
		secrets, err = meta.Resource(secretsGVR).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil {
			err = fmt.Errorf("release secrets: %w", err)
		}
		return err
	})
	g.Go(func() (err error) { deps, err = apps.Deployments("").List(ctx, all); return err })
	g.Go(func() (err error) { sts, err = apps.StatefulSets("").List(ctx, all); return err })
	g.Go(func() (err error) { dss, err = apps.DaemonSets("").List(ctx, all); return err })
	if err := g.Wait(); err != nil {
		return err
	}
	v.releases = map[string]releaseHead{}
	for _, s := range secrets.Items {
		name := s.Labels["name"]
		version, err := strconv.Atoi(s.Labels["version"])
		if err != nil || name == "" {
			continue
		}
		key := s.Namespace + "/" + name
		if head, ok := v.releases[key]; !ok || version > head.version {
			v.releases[key] = releaseHead{version: version, status: s.Labels["status"]}
		}
	}
	v.workloads = map[string]Workload{}
	for i := range deps.Items {
		v.add(deploymentState(&deps.Items[i]))
	}
	for i := range sts.Items {
		v.add(statefulSetState(&sts.Items[i]))
	}
	for i := range dss.Items {
		v.add(daemonSetState(&dss.Items[i]))
	}
	return nil
}

func (v *Verifier) add(w Workload) { v.workloads[w.Ref()] = w }
