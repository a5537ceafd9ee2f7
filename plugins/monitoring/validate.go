package monitoring

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nexolab/lab/core/sdk"
)

var retention = regexp.MustCompile(`^([0-9]+(y|w|d|h|m|s|ms))+$`)

// validate checks what the schema's patterns cannot, and again what they say for
// callers that bypass lab.hcl, before anything changes.
func validate(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
	if !retention.MatchString(cfg.Retention) {
		d.Errorf("retention", "%q: want a Prometheus duration such as 10d, 12h or 1w", cfg.Retention)
	}
	q, err := resource.ParseQuantity(cfg.StorageSize)
	switch {
	case err != nil || q.Sign() <= 0:
		d.Errorf("storage_size", "%q: want a size such as 10Gi", cfg.StorageSize)
	case q.Value() < 1<<30:
		d.Errorf("storage_size", "%q: Prometheus needs at least 1Gi", cfg.StorageSize)
	}
	if u := cfg.AlertWebhookURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		d.Errorf("alert_webhook_url", "want an http:// or https:// URL")
	}
}
