package harbor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	"github.com/nexolab/lab/core/kube"
)

// The cluster pulls from Harbor with each robot's login, as a pull secret in every
// application namespace that the namespace's default ServiceAccount names. The secret
// is the robot's (it changes with the robot's password), one per namespace, and works on
// any cluster, not only on k3d's nodes.

const pullPrefix = "harbor-pull-"

// pullLabel marks the pull secrets, in whatever namespace, as this stack's.
const pullLabel = "lab.nexolab.dev/harbor-pull"

func pullSecretName(project string) string { return pullPrefix + project }

// dockerConfig is a kubernetes.io/dockerconfigjson for one registry host.
func dockerConfig(host, user, password string) ([]byte, error) {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return json.Marshal(map[string]any{"auths": map[string]any{
		host: map[string]string{"username": user, "password": password, "auth": auth},
	}})
}

// pullNamespaces are the configured namespaces that exist; the others are left for a
// later apply.
func pullNamespaces(ctx context.Context, s *session) (present, absent []string, err error) {
	for _, ns := range s.Config.PullNamespaces {
		_, err := s.Kube.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			absent = append(absent, ns)
		case err != nil:
			return nil, nil, err
		default:
			present = append(present, ns)
		}
	}
	return present, absent, nil
}

// syncPullSecrets puts each robot's pull secret into every pull namespace that exists
// and names it in the namespace's default ServiceAccount; pull secrets of projects or
// namespaces no longer configured go. It reports whether it changed anything.
func syncPullSecrets(ctx context.Context, s *session, creds map[string]kube.Credential) (bool, error) {
	present, absent, err := pullNamespaces(ctx, s)
	if err != nil {
		return false, err
	}
	// Harbor's own namespace keeps a copy too: a stack that makes its namespaces later
	// (nexo-apps) copies it from there, labels and all, so no second apply is needed.
	if !slices.Contains(present, s.Config.Namespace) {
		present = append(present, s.Config.Namespace)
	}
	if len(absent) > 0 {
		s.Req.Emit("pull secrets", "namespace %s does not exist yet; the nexo-apps stack copies the pull secret into its namespaces, or `lab apply --refresh` adds it", strings.Join(absent, ", "))
	}
	want := map[string][]string{}
	changed := false
	for _, ns := range present {
		for _, p := range s.Config.Projects {
			cred := creds[p]
			cfg, err := dockerConfig(s.Host("harbor"), cred.Username, cred.Password)
			if err != nil {
				return false, err
			}
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Secret",
				"metadata": map[string]any{"name": pullSecretName(p), "namespace": ns, "labels": map[string]any{pullLabel: p}},
				"type":     string(corev1.SecretTypeDockerConfigJson),
				"data":     map[string]any{corev1.DockerConfigJsonKey: base64.StdEncoding.EncodeToString(cfg)},
			}}
			ch, err := s.Apply(ctx, obj)
			if err != nil {
				return false, err
			}
			changed = changed || ch
			want[ns] = append(want[ns], pullSecretName(p))
		}
	}
	removed, err := prunePullSecrets(ctx, s, want)
	if err != nil {
		return false, err
	}
	for _, ns := range present {
		ch, err := setServiceAccount(ctx, s, ns, want[ns])
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	return changed || removed, nil
}

// prunePullSecrets deletes this stack's pull secrets that want does not name, and takes
// them out of their namespace's default ServiceAccount.
func prunePullSecrets(ctx context.Context, s *session, want map[string][]string) (bool, error) {
	list, err := s.Kube.Kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{
		LabelSelector: pullLabel + "," + kube.StackLabel + "=" + s.Stack()})
	if err != nil {
		return false, fmt.Errorf("list pull secrets: %w", err)
	}
	changed := false
	for _, sec := range list.Items {
		if slices.Contains(want[sec.Namespace], sec.Name) {
			continue
		}
		if _, err := setServiceAccount(ctx, s, sec.Namespace, want[sec.Namespace]); err != nil {
			return false, err
		}
		err := s.Kube.Kube.CoreV1().Secrets(sec.Namespace).Delete(ctx, sec.Name, metav1.DeleteOptions{})
		if err := kube.IgnoreNotFound(err); err != nil {
			return false, err
		}
		s.Req.Emit("pull secrets", "removed %s/%s", sec.Namespace, sec.Name)
		changed = true
	}
	return changed, nil
}

// setServiceAccount makes the harbor-pull-* entries of the namespace's default
// ServiceAccount exactly names, keeping every other entry. A namespace whose default
// ServiceAccount is not made yet is left for a later apply.
func setServiceAccount(ctx context.Context, s *session, ns string, names []string) (bool, error) {
	sas := s.Kube.Kube.CoreV1().ServiceAccounts(ns)
	changed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sa, err := sas.Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s.Req.Warn("pull secrets", "namespace %s has no default ServiceAccount yet; `lab apply --refresh` names the pull secrets in it", ns)
			return nil
		}
		if err != nil {
			return err
		}
		var refs []corev1.LocalObjectReference
		for _, r := range sa.ImagePullSecrets {
			if !strings.HasPrefix(r.Name, pullPrefix) {
				refs = append(refs, r)
			}
		}
		for _, n := range names {
			refs = append(refs, corev1.LocalObjectReference{Name: n})
		}
		if slices.Equal(refs, sa.ImagePullSecrets) {
			return nil
		}
		sa.ImagePullSecrets = refs
		if _, err := sas.Update(ctx, sa, metav1.UpdateOptions{}); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("ServiceAccount %s/default: %w", ns, err)
	}
	return changed, nil
}

// teardown takes the pull secrets out of the application namespaces before Harbor goes.
func teardown(ctx context.Context, s *session) (bool, error) {
	return prunePullSecrets(ctx, s, nil)
}
