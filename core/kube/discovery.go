package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Establish waits until the named CRDs are established, then forgets the cached API
// resources so their kinds map. A large CRD takes the API server a moment.
func (c *Client) Establish(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	for _, name := range names {
		if err := c.waitEstablished(ctx, name); err != nil {
			return err
		}
	}
	c.ForgetAPIs()
	return nil
}

// ForgetAPIs drops the cached API resources and the mappings made from them, so that
// kinds of CRDs created since map.
func (c *Client) ForgetAPIs() {
	if c.discovery.init(c.Config) == nil {
		c.discovery.mapper.Reset() // invalidates the discovery cache too
	}
}

func (c *Client) waitEstablished(ctx context.Context, name string) error {
	for {
		crd, err := c.Dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("CRD %s: %w", name, err)
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && strings.EqualFold(fmt.Sprint(m["status"]), "True") {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRD %s is not established: %w", name, ctx.Err())
		case <-time.After(PollInterval):
		}
	}
}
