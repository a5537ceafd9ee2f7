package labca

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nexolab/lab/core/state"
)

// The lab's certificate in the cluster: apply writes it to lab-system before any stack
// runs; a stack that serves it (the ingress controller) copies it into its namespace with
// Copy, and Publish refreshes every copy when the certificate is renewed.
const (
	SecretNamespace = state.Namespace
	SecretName      = "lab-tls"
	// CopyLabel marks a copy of the lab's certificate Secret.
	CopyLabel = "lab.nexolab.dev/copy-of"
	// CAKey is the CA certificate's key in the Secret, beside tls.crt and tls.key.
	CAKey = "ca.crt"
)

var managedBy = map[string]string{"app.kubernetes.io/managed-by": "lab"}

// Publish writes the leaf and the CA to lab-system/lab-tls and into every copy of it; it
// reports how many Secrets changed.
func Publish(ctx context.Context, kc kubernetes.Interface, ca *CA, leaf *Leaf) (int, error) {
	if err := state.New(kc).EnsureNamespace(ctx); err != nil {
		return 0, err
	}
	data := map[string][]byte{corev1.TLSCertKey: leaf.CertPEM, corev1.TLSPrivateKeyKey: leaf.KeyPEM, CAKey: ca.PEM}
	n, err := put(ctx, kc, SecretNamespace, SecretName, managedBy, data)
	if err != nil {
		return 0, err
	}
	copies, err := kc.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: CopyLabel + "=" + SecretName})
	if err != nil {
		return n, fmt.Errorf("list copies of %s: %w", SecretName, err)
	}
	for _, c := range copies.Items {
		m, err := put(ctx, kc, c.Namespace, c.Name, c.Labels, data)
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// Copy makes ns/name a copy of lab-system/lab-tls, labelled so Publish keeps it current,
// plus extra labels (the stack's); found is false when apply has not published one (a
// cluster used outside lab apply).
func Copy(ctx context.Context, kc kubernetes.Interface, ns, name string, extra map[string]string) (found bool, err error) {
	src, err := kc.CoreV1().Secrets(SecretNamespace).Get(ctx, SecretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("secret %s/%s: %w", SecretNamespace, SecretName, err)
	}
	labels := map[string]string{CopyLabel: SecretName}
	for k, v := range extra {
		labels[k] = v
	}
	_, err = put(ctx, kc, ns, name, labels, src.Data)
	return true, err
}

// PutTLS writes a TLS Secret that is not a copy (the user's own certificate).
func PutTLS(ctx context.Context, kc kubernetes.Interface, ns, name string, labels map[string]string, certPEM, keyPEM []byte) error {
	_, err := put(ctx, kc, ns, name, labels, map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM})
	return err
}

// put creates or updates a kubernetes.io/tls Secret; it reports 1 when it changed.
func put(ctx context.Context, kc kubernetes.Interface, ns, name string, labels map[string]string, data map[string][]byte) (int, error) {
	secrets := kc.CoreV1().Secrets(ns)
	cur, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Type: corev1.SecretTypeTLS, Data: data}
		if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return 0, fmt.Errorf("secret %s/%s: %w", ns, name, err)
		}
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	if sameData(cur.Data, data) && sameLabels(cur.Labels, labels) {
		return 0, nil
	}
	if cur.Type != corev1.SecretTypeTLS { // the type is immutable
		return 0, fmt.Errorf("secret %s/%s exists with type %s, not %s", ns, name, cur.Type, corev1.SecretTypeTLS)
	}
	cur.Data = data
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	for k, v := range labels {
		cur.Labels[k] = v
	}
	if _, ok := labels[CopyLabel]; !ok {
		delete(cur.Labels, CopyLabel) // no longer a copy: Publish leaves it alone
	}
	if _, err := secrets.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return 0, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	return 1, nil
}

func sameData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func sameLabels(cur, want map[string]string) bool {
	if _, ok := cur[CopyLabel]; ok && want[CopyLabel] == "" {
		return false
	}
	for k, v := range want {
		if cur[k] != v {
			return false
		}
	}
	return true
}

// Published reports whether the cluster already serves ca and leaf: lab-system/lab-tls
// and every copy hold them. It only reads, for an apply that has nothing to change.
func Published(ctx context.Context, kc kubernetes.Interface, ca *CA, leaf *Leaf) (bool, error) {
	want := map[string][]byte{corev1.TLSCertKey: leaf.CertPEM, corev1.TLSPrivateKeyKey: leaf.KeyPEM, CAKey: ca.PEM}
	src, err := kc.CoreV1().Secrets(SecretNamespace).Get(ctx, SecretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	copies, err := kc.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: CopyLabel + "=" + SecretName})
	if err != nil {
		return false, err
	}
	for _, c := range copies.Items {
		if !sameData(c.Data, want) {
			return false, nil
		}
	}
	return sameData(src.Data, want) && sameLabels(src.Labels, managedBy), nil
}
