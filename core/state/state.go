// Package state records what lab installed in the cluster itself (namespace lab-system),
// so that plan is right from any machine and a stack dropped from lab.hcl is uninstalled.
package state

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nexolab/lab/core/sdk"
)

// Namespace holds lab's records.
const Namespace = "lab-system"

const (
	labelStack = "lab.nexolab.dev/stack"
	dataKey    = "record.json"
)

// Record is what lab knows of one installed stack.
type Record struct {
	Stack         string `json:"stack"`
	PluginVersion string `json:"pluginVersion"`
	PluginSHA256  string `json:"pluginSHA256"`
	ConfigHash    string `json:"configHash"`
	// Config is the config it was installed with, without sensitive values (Redact);
	// Sensitive holds their hashes.
	Config    json.RawMessage   `json:"config"`
	Sensitive map[string]string `json:"sensitive,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
	// Status is installed or failed.
	Status    string        `json:"status"`
	Error     string        `json:"error,omitempty"`
	Releases  []sdk.Release `json:"releases,omitempty"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

// Record statuses.
const (
	Installed = "installed"
	Failed    = "failed"
	// Interrupted: the apply was stopped (Ctrl-C, SIGTERM) while the stack was installing.
	Interrupted = "interrupted"
)

// Store reads and writes records as ConfigMaps.
type Store struct {
	kube kubernetes.Interface
}

// New returns a store on a cluster.
func New(kube kubernetes.Interface) *Store { return &Store{kube: kube} }

func name(stack string) string { return "stack-" + stack }

// List returns every record by stack name; none when lab-system does not exist yet.
func (s *Store) List(ctx context.Context) (map[string]Record, error) {
	return s.ListAt(ctx, "")
}

// ListAt reads every record as the cluster had them at resource version rv (none: now).
// A writer reads them at the version it took the lab lock (lock.Lease.Version): that
// includes every earlier writer's records, and the API server answers it from etcd at
// once, where a consistent list right after a write to another resource waits for its
// watch cache to catch up (60-90 ms on the test cluster).
func (s *Store) ListAt(ctx context.Context, rv string) (map[string]Record, error) {
	opts := metav1.ListOptions{LabelSelector: labelStack}
	if rv != "" {
		opts.ResourceVersion, opts.ResourceVersionMatch = rv, metav1.ResourceVersionMatchExact
	}
	cms, err := s.kube.CoreV1().ConfigMaps(Namespace).List(ctx, opts)
	if rv != "" && (apierrors.IsResourceExpired(err) || apierrors.IsGone(err)) {
		return s.ListAt(ctx, "") // compacted away: read what is there now
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	out := map[string]Record{}
	for _, cm := range cms.Items {
		var r Record
		if err := json.Unmarshal([]byte(cm.Data[dataKey]), &r); err != nil {
			return nil, fmt.Errorf("lab state %s/%s: %w", Namespace, cm.Name, err)
		}
		out[r.Stack] = r
	}
	return out, nil
}

// Put writes a record, creating lab-system when needed.
func (s *Store) Put(ctx context.Context, r Record) error {
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.EnsureNamespace(ctx); err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name(r.Stack), Namespace: Namespace,
			Labels: map[string]string{labelStack: r.Stack, "app.kubernetes.io/managed-by": "lab"}},
		Data: map[string]string{dataKey: string(b)},
	}
	cms := s.kube.CoreV1().ConfigMaps(Namespace)
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write lab state of %s: %w", r.Stack, err)
	}
	return nil
}

// Delete removes a stack's record.
func (s *Store) Delete(ctx context.Context, stack string) error {
	err := s.kube.CoreV1().ConfigMaps(Namespace).Delete(ctx, name(stack), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete lab state of %s: %w", stack, err)
	}
	return nil
}

// DeleteAll removes lab-system with every record, and waits until it is gone so that a
// following apply can create it again.
func (s *Store) DeleteAll(ctx context.Context) error {
	nss := s.kube.CoreV1().Namespaces()
	err := nss.Delete(ctx, Namespace, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", Namespace, err)
	}
	return s.waitGone(ctx)
}

func (s *Store) waitGone(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		_, err := s.kube.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s is still terminating (%w), held by: %s", Namespace, ctx.Err(), Stuck(ctx, s.kube, Namespace))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// EnsureNamespace creates lab-system; one left terminating by a destroy is waited for.
func (s *Store) EnsureNamespace(ctx context.Context) error {
	nss := s.kube.CoreV1().Namespaces()
	if got, err := nss.Get(ctx, Namespace, metav1.GetOptions{}); err == nil {
		if got.Status.Phase != corev1.NamespaceTerminating {
			return nil
		}
		if err := s.waitGone(ctx); err != nil {
			return err
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "lab"}}}
	_, err := nss.Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %s: %w", Namespace, err)
	}
	return nil
}

// Names returns the sorted stack names of records.
func Names(records map[string]Record) []string {
	out := make([]string, 0, len(records))
	for n := range records {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
