package logging

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nexolab/lab/core/sdk"
)

// apiTimeout bounds the checks made through the Elasticsearch and Kibana APIs.
const apiTimeout = 20 * time.Second

// The checks made through the APIs.
var apiChecks = []string{"lifecycle policy", "data views", "app-* documents", "k8s-* documents"}

// checks: the operator's rollout is the kit's; then the resources ECK runs, then what is
// inside Elasticsearch and Kibana, through the API server.
func checks(ctx context.Context, s *session, h *sdk.Health) {
	for _, r := range eckResources {
		r.report(ctx, s, h)
	}
	if s.Simulated() {
		for _, c := range apiChecks {
			h.SkipSimulated(c, "Elasticsearch and Kibana do not run; their resources are checked above")
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	es, err := openElastic(ctx, s)
	if err != nil {
		for _, c := range []string{"lifecycle policy", "app-* documents", "k8s-* documents"} {
			h.Add(c, sdk.Unhealthy, "Elasticsearch: %v", err)
		}
	} else {
		checkPolicy(ctx, s.Config, h, es)
	}
	if kb, err := openKibana(ctx, s); err != nil {
		h.Add("data views", sdk.Unhealthy, "Kibana: %v", err)
	} else {
		checkDataViews(ctx, h, kb)
	}
	if es != nil {
		checkDocuments(ctx, h, es)
	}
}

func checkPolicy(ctx context.Context, cfg *Config, h *sdk.Health, es *elastic) {
	got, err := es.policyRetention(ctx, policyName)
	switch {
	case statusOf(err) == 404:
		h.Add("lifecycle policy", sdk.Unhealthy, "lifecycle policy %s is missing: indices are never deleted (apply again)", policyName)
	case err != nil:
		h.Add("lifecycle policy", sdk.Unhealthy, "%v", err)
	case got != cfg.Retention:
		h.Add("lifecycle policy", sdk.Degraded, "lifecycle policy %s deletes indices after %s, the config says %s (apply again)", policyName, got, cfg.Retention)
	default:
		h.Add("lifecycle policy", sdk.Healthy, "lifecycle policy %s deletes app-* and k8s-* indices after %s", policyName, got)
	}
}

func checkDataViews(ctx context.Context, h *sdk.Health, kb *kibanaAPI) {
	views, err := kb.dataViews(ctx)
	if err != nil {
		h.Add("data views", sdk.Unhealthy, "%v", err)
		return
	}
	have := map[string]bool{}
	for _, v := range views {
		have[v.Title] = true
	}
	var missing []string
	for _, v := range wantViews {
		if !have[v.Title] {
			missing = append(missing, v.Title)
		}
	}
	if len(missing) > 0 {
		h.Add("data views", sdk.Unhealthy, "Kibana lacks the data views %s (apply again)", strings.Join(missing, ", "))
		return
	}
	h.Add("data views", sdk.Healthy, "Kibana has the data views app-* and k8s-*")
}

// checkDocuments: logs arriving in the last 5 minutes show the whole pipeline works,
// Filebeat on the nodes to the indices.
func checkDocuments(ctx context.Context, h *sdk.Health, es *elastic) {
	for _, pattern := range []string{"app-*", "k8s-*"} {
		name := pattern + " documents"
		n, err := es.count(ctx, pattern, "now-5m")
		switch {
		case err != nil:
			h.Add(name, sdk.Unhealthy, "%v", err)
		case n == 0:
			h.Add(name, sdk.Degraded, "no documents in %s in the last 5 minutes: is Filebeat shipping (see the filebeat check), and do the namespaces log?", pattern)
		default:
			h.Add(name, sdk.Healthy, "%s", fmt.Sprintf("%d documents in %s in the last 5 minutes", n, pattern))
		}
	}
}
