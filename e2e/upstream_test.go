package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

// upstreamCase is one stack proven against its real upstream chart.
type upstreamCase struct {
	name string
	// blocks are the stack blocks of lab.hcl; %[1]s is the chart repository.
	blocks string
	// releases ("namespace/release") and namespaces the stacks own, and their CRDs' groups.
	releases   []string
	namespaces []string
	crdGroups  []string
	stacks     []string
}

func chartBlock(chart string) string {
	return fmt.Sprintf("  chart %q {\n    repository = \"%%[1]s\"\n  }\n", chart)
}

var upstreamCases = []upstreamCase{
	{name: "ingress-nginx", blocks: "stack \"ingress\" {\n  controller = \"nginx\"\n" + chartBlock("ingress-nginx") + "}\n",
		releases: []string{"ingress/ingress-nginx"}, namespaces: []string{"ingress"}, stacks: []string{"ingress"}},
	{name: "traefik", blocks: traefikBlock,
		releases: []string{"ingress/traefik"}, namespaces: []string{"ingress"}, stacks: []string{"ingress"}},
	{name: "argo-cd", blocks: traefikBlock + "stack \"argocd\" {\n" + chartBlock("argo-cd") + "}\n",
		releases: []string{"ingress/traefik", "argocd/argocd"}, namespaces: []string{"ingress", "argocd"},
		crdGroups: []string{"argoproj.io"}, stacks: []string{"ingress", "argocd"}},
	{name: "kube-prometheus-stack", blocks: traefikBlock + "stack \"monitoring\" {\n" + chartBlock("kube-prometheus-stack") + "}\n",
		releases: []string{"ingress/traefik", "monitoring/kube-prometheus-stack"}, namespaces: []string{"ingress", "monitoring"},
		crdGroups: []string{"monitoring.coreos.com"}, stacks: []string{"ingress", "monitoring"}},
}

var traefikBlock = "stack \"ingress\" {\n  controller = \"traefik\"\n" + chartBlock("traefik") + "}\n"

// Every stack with its real upstream chart (../shared/refs/upstream-charts, served as a
// chart repository), through the lab binary on kwok: apply, `lab health` exit 0, a no-op
// re-apply without a new Helm revision, then destroy with the data purged leaves no
// release, namespace, CRD or labelled object of the stacks.
func TestUpstreamCharts(t *testing.T) {
	repo := testenv.UpstreamRepo(t)
	for _, tc := range upstreamCases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, header("upstream.local")+fmt.Sprintf(tc.blocks, repo))
			t.Cleanup(func() { l.run("destroy", "--yes", "--purge-data") })
			l.ok("apply")
			l.ok("health")
			revisions := map[string]int{}
			for _, r := range tc.releases {
				ns, name, _ := strings.Cut(r, "/")
				revisions[r] = helmRevisions(t, ns, name)
				require.Positive(t, revisions[r], "release %s installed", r)
			}
			l.ok("apply")
			for _, r := range tc.releases {
				ns, name, _ := strings.Cut(r, "/")
				assert.Equal(t, revisions[r], helmRevisions(t, ns, name), "a no-op apply makes no new revision of %s", r)
			}
			l.ok("destroy", "--yes", "--purge-data")
			assertNothingLeft(t, tc)
		})
	}
}

func assertNothingLeft(t *testing.T, tc upstreamCase) {
	ctx := context.Background()
	c := client(t)
	for _, r := range tc.releases {
		ns, name, _ := strings.Cut(r, "/")
		assert.Zero(t, helmRevisions(t, ns, name), "release %s is gone", r)
	}
	for _, ns := range tc.namespaces {
		_, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "namespace %s is gone: %v", ns, err)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	list, err := c.Dynamic.Resource(crds).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, crd := range list.Items {
		for _, g := range tc.crdGroups {
			assert.False(t, strings.HasSuffix(crd.GetName(), "."+g), "CRD %s is gone", crd.GetName())
		}
	}
	for _, s := range tc.stacks {
		for _, gvr := range []schema.GroupVersionResource{{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "secrets"}} {
			objs, err := c.Dynamic.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: kube.StackLabel + "=" + s})
			require.NoError(t, err)
			assert.Empty(t, objs.Items, "no %s of stack %s is left", gvr.Resource, s)
		}
	}
}
