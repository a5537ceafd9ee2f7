package helmstack

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Session is one call of a work method: the request, its config and the cluster.
type Session[C any] struct {
	Req    *sdk.Request
	Config *C
	// Kube is the cluster, and Helm its releases; both nil when rendering without one.
	Kube *kube.Client
	Helm *helm.Client
	// DryRun is true while rendering: read the cluster, never write to it.
	DryRun bool
	// Values carries what Prepare found to Releases (a stored hash, a generated name).
	Values map[string]any
	info   sdk.Info
}

// Placeholder stands for a generated value that does not exist yet while rendering.
const Placeholder = "(generated at install)"

// Stack is the stack's name in lab.hcl, which labels what it owns.
func (s *Session[C]) Stack() string {
	if s.Req.Stack != "" {
		return s.Req.Stack
	}
	return s.info.Name
}

// Host is a host name under the lab's domain: Host("grafana") is grafana.<domain>.
func (s *Session[C]) Host(prefix string) string { return prefix + "." + s.Req.Lab.Domain }

// Simulated reports whether no container runs on the cluster (kwok).
func (s *Session[C]) Simulated() bool { return s.Req.Cluster.Simulated }

// Secret returns a Secret's data, generating the keys it lacks (kept from then on).
// While rendering nothing is created: missing keys read as Placeholder.
func (s *Session[C]) Secret(ctx context.Context, ns, name string, keys map[string]kube.Generator) (map[string][]byte, error) {
	if !s.DryRun {
		return s.Kube.EnsureSecret(ctx, ns, name, keys)
	}
	out := map[string][]byte{}
	if s.Kube != nil {
		if sec, err := s.Kube.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			out = sec.Data
		}
	}
	for k := range keys {
		if _, ok := out[k]; !ok {
			out[k] = []byte(Placeholder)
		}
	}
	return out, nil
}

// Credential returns the login of one of the stack's UIs, generating its password once;
// `lab credentials` lists it. While rendering nothing is created.
func (s *Session[C]) Credential(ctx context.Context, ui, ns, secret, url, username string) (kube.Credential, error) {
	if !s.DryRun {
		cred, err := s.Kube.EnsureCredential(ctx, s.Stack(), ui, ns, secret, url, username)
		if err == nil {
			s.Req.Emit("credentials", "%s login %q in Secret %s/%s", ui, username, ns, secret)
		}
		return cred, err
	}
	data, err := s.Secret(ctx, ns, secret, map[string]kube.Generator{kube.PasswordKey: nil})
	return kube.Credential{UI: ui, Stack: s.Stack(), URL: url, Username: username,
		Password: string(data[kube.PasswordKey]), Namespace: ns, Secret: secret}, err
}

// Apply server-side applies an object the stack owns, labelled as the stack's so that
// Uninstall finds it; it reports whether the object changed.
func (s *Session[C]) Apply(ctx context.Context, obj *unstructured.Unstructured) (bool, error) {
	labels := obj.GetLabels()
	for k, v := range kube.Owned(s.Stack(), nil) {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = v
	}
	obj.SetLabels(labels)
	changed, err := s.Kube.ApplyObject(ctx, obj.GetNamespace(), obj)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return changed, nil
}
