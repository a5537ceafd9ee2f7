package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/kube"
)

// settleCRDs waits until the CRDs a release's templates made are established, then
// forgets the cached API resources, so that a later release of the same apply can use
// their kinds (eck-stack's Elasticsearch, of eck-operator's CRDs). Helm does this itself
// only for a chart's crds/ folder.
func (c *Client) settleCRDs(ctx context.Context, rel *release.Release) error {
	objs, err := objectsOf(rel.Manifest, "CustomResourceDefinition")
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", rel.Name, err)
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.GetName()
	}
	return c.Establish(ctx, names)
}

// crdsFirst is the post-renderer of lab's installs and upgrades. It takes the
// CustomResourceDefinitions out of the rendered manifest and server-side applies each,
// as the YAML Helm rendered, before Helm builds the rest. Helm would decode them all at
// once and hold them, and the manifest and stored release carrying them, for the whole
// install: argo-cd's templated CRDs are 1.8 MB of YAML and several times that in heap.
// Taken out, a chart's templated CRDs live like those of its crds/ folder: applied before
// its objects (which may now be of their kinds), kept when the release goes (a stack
// deletes its CRD groups with its data). A release installed with CRDs in its manifest,
// by an earlier lab, keeps them there: Helm deletes what leaves the manifest, and a
// CRD's deletion takes every object of its kind along. Each CRD carries Helm's ownership
// marks of the release, so that `helm upgrade` of the release adopts it rather than
// refusing to touch an object it did not make.
type crdsFirst struct {
	ctx                context.Context
	c                  *Client
	release, namespace string
}

func (p crdsFirst) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	rest := new(bytes.Buffer)
	var names []string
	for _, d := range splitManifest(rendered.String()) {
		if !d.isCRD() {
			rest.WriteString("---\n")
			rest.WriteString(d.text)
			continue
		}
		if err := p.apply(d); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", d.name, err)
		}
		names = append(names, d.name)
	}
	wait, cancel := context.WithTimeout(p.ctx, time.Minute) // Helm's bound for crds/
	defer cancel()
	return rest, p.c.Establish(wait, names)
}

// apply server-side applies a CRD as rendered (the response is not decoded either), then
// marks it as the release's the way Helm does.
func (p crdsFirst) apply(d doc) error {
	path := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
	rc := p.c.Kube.CoreV1().RESTClient()
	err := rc.Patch(types.ApplyYAMLPatchType).AbsPath(path, d.name).
		Param("fieldManager", kube.FieldManager).Param("force", "true").
		Body([]byte(d.text)).Do(p.ctx).Error()
	if err != nil {
		return err
	}
	owner, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"labels": map[string]string{"app.kubernetes.io/managed-by": "Helm"},
		"annotations": map[string]string{
			"meta.helm.sh/release-name": p.release, "meta.helm.sh/release-namespace": p.namespace},
	}})
	if err != nil {
		return err
	}
	return rc.Patch(types.MergePatchType).AbsPath(path, d.name).
		Param("fieldManager", kube.FieldManager).Body(owner).Do(p.ctx).Error()
}

// createCRDs does for a first install what Helm does with the CRDs of a chart's crds/
// folders: it creates those the cluster lacks (an existing one is left as it is) and waits
// until they are established, then forgets the cached API resources so the chart's own
// objects of those kinds map. Unlike Helm, which keeps every CRD it created and reads
// them all back while it waits (about 9 MB of heap for kube-prometheus-stack's), it holds
// one CRD at a time.
func (c *Client) createCRDs(ctx context.Context, ch *chart.Chart) error {
	crds := ch.CRDObjects()
	var created []string
	for _, crd := range crds {
		objs, err := kube.Decode(string(crd.File.Data))
		if err != nil {
			return fmt.Errorf("CRD %s: %w", crd.Name, err)
		}
		for _, o := range objs {
			ri, err := c.ResourceFor(o, "")
			if err != nil {
				return fmt.Errorf("CRD %s: %w", crd.Name, err)
			}
			_, err = ri.Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("CRD %s: %w", o.GetName(), err)
			}
			if o.GetKind() == "CustomResourceDefinition" {
				created = append(created, o.GetName())
			}
		}
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute) // Helm's bound
	defer cancel()
	return c.Establish(wait, created)
}
