package kube

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedBy labels what lab creates outside Helm.
var ManagedBy = map[string]string{"app.kubernetes.io/managed-by": "lab"}

// Quota is a namespace's resource quota, in Kubernetes quantities ("500m", "512Mi").
// A quota on requests and limits rejects pods that set none, so the namespace also gets
// a LimitRange with defaults for containers that do not say (hook jobs, sidecars).
type Quota struct {
	RequestsCPU, RequestsMemory string
	LimitsCPU, LimitsMemory     string
	// Container defaults; 50m/64Mi requested and 500m/512Mi limit when empty.
	DefaultRequestCPU, DefaultRequestMemory string
	DefaultLimitCPU, DefaultLimitMemory     string
}

// EnsureNamespace creates a namespace with lab's labels and, when given, its quota.
func (c *Client) EnsureNamespace(ctx context.Context, name string, quota *Quota) error {
	nss := c.Kube.CoreV1().Namespaces()
	if _, err := nss.Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: ManagedBy}}
		if _, err := nss.Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", name, err)
		}
	} else if err != nil {
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	if quota == nil {
		return nil
	}
	if err := c.ensureQuota(ctx, name, *quota); err != nil {
		return err
	}
	return c.ensureLimitRange(ctx, name, *quota)
}

func resources(m map[corev1.ResourceName]string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for name, v := range m {
		if v == "" {
			continue
		}
		qty, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = qty
	}
	return out, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (c *Client) ensureLimitRange(ctx context.Context, ns string, q Quota) error {
	req, err := resources(map[corev1.ResourceName]string{
		corev1.ResourceCPU: or(q.DefaultRequestCPU, "50m"), corev1.ResourceMemory: or(q.DefaultRequestMemory, "64Mi")})
	if err != nil {
		return fmt.Errorf("limit range of %s: %w", ns, err)
	}
	lim, err := resources(map[corev1.ResourceName]string{
		corev1.ResourceCPU: or(q.DefaultLimitCPU, "500m"), corev1.ResourceMemory: or(q.DefaultLimitMemory, "512Mi")})
	if err != nil {
		return fmt.Errorf("limit range of %s: %w", ns, err)
	}
	want := corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Default: lim, DefaultRequest: req}}}
	lrs := c.Kube.CoreV1().LimitRanges(ns)
	got, err := lrs.Get(ctx, "lab-defaults", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = lrs.Create(ctx, &corev1.LimitRange{
			ObjectMeta: metav1.ObjectMeta{Name: "lab-defaults", Namespace: ns, Labels: ManagedBy}, Spec: want}, metav1.CreateOptions{})
	case err == nil && (len(got.Spec.Limits) != 1 || !sameResources(got.Spec.Limits[0].Default, lim) ||
		!sameResources(got.Spec.Limits[0].DefaultRequest, req)):
		got.Spec = want
		_, err = lrs.Update(ctx, got, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("limit range of %s: %w", ns, err)
	}
	return nil
}

func (c *Client) ensureQuota(ctx context.Context, ns string, q Quota) error {
	hard, err := resources(map[corev1.ResourceName]string{
		corev1.ResourceRequestsCPU: q.RequestsCPU, corev1.ResourceRequestsMemory: q.RequestsMemory,
		corev1.ResourceLimitsCPU: q.LimitsCPU, corev1.ResourceLimitsMemory: q.LimitsMemory,
	})
	if err != nil {
		return fmt.Errorf("quota of %s: %w", ns, err)
	}
	want := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "lab-quota", Namespace: ns, Labels: ManagedBy},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard},
	}
	quotas := c.Kube.CoreV1().ResourceQuotas(ns)
	got, err := quotas.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = quotas.Create(ctx, want, metav1.CreateOptions{})
	case err == nil && !sameResources(got.Spec.Hard, hard):
		got.Spec.Hard = hard
		_, err = quotas.Update(ctx, got, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("quota of %s: %w", ns, err)
	}
	return nil
}

func sameResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

// Generator makes a secret value.
type Generator func() ([]byte, error)

// Password generates random passwords of n letters and digits.
func Password(n int) Generator {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return func() ([]byte, error) {
		out := make([]byte, n)
		for i := range out {
			k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			if err != nil {
				return nil, err
			}
			out[i] = alphabet[k.Int64()]
		}
		return out, nil
	}
}

// Fixed is a value that is not generated (a user name).
func Fixed(v string) Generator { return func() ([]byte, error) { return []byte(v), nil } }

// EnsureSecret returns the data of a Secret, generating the keys it lacks. Values once
// generated are kept, so every later apply renders the same values.
func (c *Client) EnsureSecret(ctx context.Context, ns, name string, keys map[string]Generator) (map[string][]byte, error) {
	secrets := c.Kube.CoreV1().Secrets(ns)
	s, err := secrets.Get(ctx, name, metav1.GetOptions{})
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	if !exists {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: ManagedBy}}
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	missing := false
	for k, gen := range keys {
		if _, ok := s.Data[k]; ok {
			continue
		}
		v, err := gen()
		if err != nil {
			return nil, err
		}
		s.Data[k], missing = v, true
	}
	switch {
	case !exists:
		_, err = secrets.Create(ctx, s, metav1.CreateOptions{})
	case missing:
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	return maps.Clone(s.Data), nil
}

// DeleteNamespace deletes a namespace lab created and waits until it is gone or ctx ends.
// A namespace lab did not create is left alone.
func (c *Client) DeleteNamespace(ctx context.Context, name string) error {
	nss := c.Kube.CoreV1().Namespaces()
	ns, err := nss.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Labels["app.kubernetes.io/managed-by"] != "lab" {
		return nil
	}
	if err := nss.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	for {
		if _, err := nss.Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s is still terminating: %w", name, ctx.Err())
		case <-time.After(PollInterval):
		}
	}
}
