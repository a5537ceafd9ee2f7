package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// stacksHCL is the lab of issue 4: ingress, Argo CD and monitoring, charts served locally.
func stacksHCL(argocd, monitoring bool) string {
	s := header("stacks.local") + ingressBlock("traefik")
	if argocd {
		// The Nexo Applications belong to the nexo-apps stack; one of the user's own here.
		s += fmt.Sprintf("stack \"argocd\" {\n  applications = { \"nexo-be-local\" = \"apps/nexo-be\" }\n  chart \"argo-cd\" {\n    repository = %q\n  }\n}\n", charts)
	}
	if monitoring {
		s += fmt.Sprintf("stack \"monitoring\" {\n  retention = \"7d\"\n  chart \"kube-prometheus-stack\" {\n    repository = %q\n  }\n}\n", charts)
	}
	return s
}

var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Argo CD and monitoring from lab.hcl, as a user runs them: apply, health, re-apply with no
// new Helm revision, credentials, render, backup and restore of Argo CD's objects, and
// uninstall of each by removing its block.
func TestArgoCDAndMonitoring(t *testing.T) {
	ctx := context.Background()
	l := newLab(t, stacksHCL(true, true))
	t.Cleanup(func() { l.run("destroy", "--yes") })

	plan := l.ok("plan")
	assert.Regexp(t, `ingress\s+install\s+1`, plan.stdout)
	assert.Regexp(t, `argocd\s+install\s+2`, plan.stdout, "argocd waits for the ingress")
	assert.Regexp(t, `monitoring\s+install\s+2`, plan.stdout)
	l.ok("apply")
	h := l.ok("health")
	assert.Regexp(t, `argocd\s+healthy`, h.stdout)
	assert.Regexp(t, `monitoring\s+healthy`, h.stdout)
	assert.Regexp(t, `skipped\s+prometheus`, h.stdout, "no operator runs on kwok: skipped, never healthy")

	revisions := map[string]int{
		"argocd/argo-cd":                   helmRevisions(t, "argocd", "argo-cd"),
		"monitoring/kube-prometheus-stack": helmRevisions(t, "monitoring", "kube-prometheus-stack"),
	}
	l.ok("apply")
	l.ok("apply", "--refresh") // every plugin's Install runs, and still changes nothing
	assert.Equal(t, revisions["argocd/argo-cd"], helmRevisions(t, "argocd", "argo-cd"))
	assert.Equal(t, revisions["monitoring/kube-prometheus-stack"], helmRevisions(t, "monitoring", "kube-prometheus-stack"))

	creds := l.ok("credentials")
	assert.Regexp(t, `argocd\s+argocd\s+http\S*://argocd\.stacks\.local\s+admin\s+\(secret argocd/`, creds.stdout)
	assert.Regexp(t, `grafana\s+monitoring\s+http\S*://grafana\.stacks\.local\s+admin`, creds.stdout)
	shown := l.ok("credentials", "argocd", "--show-secrets", "-o", "json")
	var list []map[string]any
	require.NoError(t, jsonUnmarshal(shown.stdout, &list))
	require.Len(t, list, 1)
	password := list[0]["password"].(string)
	require.Len(t, password, 24)
	for _, stack := range []string{"argocd", "monitoring"} {
		assert.NotContains(t, l.ok("render", stack).stdout, password, "render never prints a secret")
	}

	// Backup, lose an Application, restore it.
	apps := client(t).Dynamic.Resource(applications).Namespace("argocd")
	_, err := apps.Get(ctx, "nexo-be-local", metav1.GetOptions{})
	require.NoError(t, err)
	archive := filepath.Join(l.dir, "argocd.tar.gz")
	l.ok("backup", "argocd", "--to", archive)
	// No Argo CD controller runs on kwok to honour the cascade finalizer: take it off, so
	// the Application is really gone before the restore.
	_, err = apps.Patch(ctx, "nexo-be-local", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, apps.Delete(ctx, "nexo-be-local", metav1.DeleteOptions{}))
	_, err = apps.Get(ctx, "nexo-be-local", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "deleted before the restore: %v", err)
	l.ok("restore", archive, "--yes")
	_, err = apps.Get(ctx, "nexo-be-local", metav1.GetOptions{})
	assert.NoError(t, err, "the Application is back")

	// Removing a block uninstalls that stack only.
	l.write(stacksHCL(false, true))
	assert.Regexp(t, `argocd\s+uninstall`, l.ok("plan").stdout)
	l.ok("apply")
	_, err = client(t).Kube.CoreV1().Namespaces().Get(ctx, "argocd", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "namespace argocd is gone: %v", err)
	assert.Regexp(t, `monitoring\s+healthy`, l.ok("health").stdout)
	l.write(stacksHCL(false, false))
	l.ok("apply")
	assert.Equal(t, 0, helmRevisions(t, "monitoring", "kube-prometheus-stack"))
}
