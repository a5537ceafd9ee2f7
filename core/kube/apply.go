package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// FieldManager names lab as the owner of the fields it applies.
const FieldManager = "lab"

// ApplyYAML server-side applies every object of a multi-document YAML manifest, in order,
// and reports whether any changed. Namespaced objects without a namespace go to ns.
func (c *Client) ApplyYAML(ctx context.Context, ns, manifest string) (bool, error) {
	objs, err := Decode(manifest)
	if err != nil {
		return false, err
	}
	changed := false
	for _, o := range objs {
		ch, err := c.ApplyObject(ctx, ns, o)
		if err != nil {
			return changed, err
		}
		changed = changed || ch
	}
	return changed, nil
}

// Decode splits a YAML manifest into objects.
func Decode(manifest string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewBufferString(manifest)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

// ApplyObject server-side applies one object and reports whether the cluster's object
// changed (it is new, or its resourceVersion moved).
func (c *Client) ApplyObject(ctx context.Context, ns string, obj *unstructured.Unstructured) (bool, error) {
	ri, err := c.ResourceFor(obj, ns)
	if err != nil {
		return false, err
	}
	before := ""
	if cur, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{}); err == nil {
		before = cur.GetResourceVersion()
	} else if !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return false, err
	}
	force := true
	got, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return false, fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return got.GetResourceVersion() != before, nil
}

// DeleteObject deletes one object; a missing object or kind is not an error.
func (c *Client) DeleteObject(ctx context.Context, ns string, obj *unstructured.Unstructured) error {
	ri, err := c.ResourceFor(obj, ns)
	if meta.IsNoMatchError(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// mapping finds the resource of a kind. A kind the cached discovery does not know may be
// a CRD a chart created moments ago, so the cache is refreshed once before giving up.
func (c *Client) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	mapper, err := c.Mapper()
	if err != nil {
		return nil, err
	}
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.ForgetAPIs()
		m, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk.Kind, err)
	}
	return m, nil
}

// ResourceFor is the dynamic client of an object's resource, in ns when the object is
// namespaced and names none.
func (c *Client) ResourceFor(obj *unstructured.Unstructured, ns string) (dynamic.ResourceInterface, error) {
	m, err := c.mapping(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(m.Resource), nil
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(ns)
	}
	return c.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
}
