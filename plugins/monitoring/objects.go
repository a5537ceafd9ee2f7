package main

import (
	"context"
	"encoding/base64"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
)

var (
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	crds       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// ownerLabel marks the objects this plugin makes outside the chart, to find and prune them.
const ownerLabel = "lab.nexolab.dev/monitoring"

// labels are lab's labels on the objects this plugin makes, plus extra.
func labels(extra map[string]string) map[string]any {
	out := map[string]any{ownerLabel: "true"}
	for k, v := range kube.ManagedBy {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// remove deletes a namespaced object; a missing one (or kind) is not an error. It
// reports whether something was deleted.
func remove(ctx context.Context, c *kube.Client, gvr schema.GroupVersionResource, ns, name string) (bool, error) {
	err := c.Dynamic.Resource(gvr).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("delete %s %s/%s: %w", gvr.Resource, ns, name, err)
}

// ensureWebhookSecret keeps the Alertmanager webhook URL in a Secret, out of the Helm
// values; without a URL the Secret goes.
func ensureWebhookSecret(ctx context.Context, c *kube.Client, cfg *Config) (bool, error) {
	if cfg.AlertWebhookURL == "" {
		return remove(ctx, c, secrets, cfg.Namespace, webhookSecret)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": webhookSecret, "namespace": cfg.Namespace, "labels": labels(nil)},
		"type":     "Opaque",
		"data":     map[string]any{"url": base64.StdEncoding.EncodeToString([]byte(cfg.AlertWebhookURL))},
	}}
	return c.ApplyObject(ctx, cfg.Namespace, obj)
}

// deleteLabObjects deletes what Install made besides the release: the alert rules, the
// dashboards' ConfigMaps and the webhook Secret. It returns how many it deleted.
func deleteLabObjects(ctx context.Context, c *kube.Client, ns string) (int, error) {
	n := 0
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{prometheusRules, rulesName}, {secrets, webhookSecret}} {
		ok, err := remove(ctx, c, o.gvr, ns, o.name)
		if err != nil && !isNoKind(err) {
			return n, err
		}
		if ok {
			n++
		}
	}
	k, err := pruneDashboards(ctx, c, ns, nil)
	return n + k, err
}

// isNoKind tells a resource the cluster does not serve (the CRDs are gone).
func isNoKind(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.ReasonForError(err) == metav1.StatusReasonNotFound
}

// deleteCRDs deletes every CRD of the monitoring.coreos.com group.
func deleteCRDs(ctx context.Context, c *kube.Client) (int, error) {
	list, err := c.Dynamic.Resource(crds).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		if group != "monitoring.coreos.com" {
			continue
		}
		err := c.Dynamic.Resource(crds).Delete(ctx, crd.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return n, fmt.Errorf("delete CRD %s: %w", crd.GetName(), err)
		}
		n++
	}
	return n, nil
}
