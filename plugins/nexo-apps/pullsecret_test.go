package nexoapps

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
)

// The harbor stack's pull secret of project nexo, kept in Harbor's namespace, is copied
// into every environment namespace, labels and all, so the first apply pulls from Harbor.
func TestHarborPullSecretCopied(t *testing.T) {
	ctx := context.Background()
	c := connect(t)
	cfg := defaults()
	cfg.Environments = []string{"develop"}
	for _, ns := range []string{"harbor-copy-src", "nexo-local"} {
		require.NoError(t, c.EnsureNamespace(ctx, ns, nil))
	}
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), "harbor-copy-src") })
	src := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: pullSecret, Namespace: "harbor-copy-src",
			Labels: map[string]string{harborPullLabel: "nexo", kube.StackLabel: "harbor"}},
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"harbor.nexo.test":{"auth":"eA=="}}}`)},
	}
	_, err := c.Kube.CoreV1().Secrets(src.Namespace).Create(ctx, src, metav1.CreateOptions{})
	require.NoError(t, err)

	s := &session{Req: request(t, cfg), Config: cfg, Kube: c}
	changed, err := copyPullSecret(ctx, s)
	require.NoError(t, err)
	assert.True(t, changed)
	got, err := c.Kube.CoreV1().Secrets("nexo-local").Get(ctx, pullSecret, metav1.GetOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Kube.CoreV1().Secrets("nexo-local").Delete(context.Background(), pullSecret, metav1.DeleteOptions{})
	})
	assert.Equal(t, src.Data, got.Data)
	assert.Equal(t, corev1.SecretTypeDockerConfigJson, got.Type)
	assert.Equal(t, "harbor", got.Labels[kube.StackLabel], "the copy stays Harbor's, which keeps it current")

	changed, err = copyPullSecret(ctx, s)
	require.NoError(t, err)
	assert.False(t, changed, "a second copy changes nothing")
}
