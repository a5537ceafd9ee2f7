package monitoring

import (
	"context"
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// ensureWebhookSecret keeps the Alertmanager webhook URL in a Secret, out of the Helm
// values; without a URL the Secret goes.
func ensureWebhookSecret(ctx context.Context, s *session) (bool, error) {
	if s.Config.AlertWebhookURL == "" {
		return s.Kube.Delete(ctx, secrets, s.Config.Namespace, webhookSecret)
	}
	return s.Apply(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": webhookSecret, "namespace": s.Config.Namespace},
		"type":     "Opaque",
		"data":     map[string]any{"url": base64.StdEncoding.EncodeToString([]byte(s.Config.AlertWebhookURL))},
	}})
}

// removeWebhookSecret deletes the webhook Secret on uninstall, data purged or not: it
// holds configuration, not data the namespace keeps.
func removeWebhookSecret(ctx context.Context, s *session) (bool, error) {
	return s.Kube.Delete(ctx, secrets, s.Config.Namespace, webhookSecret)
}
