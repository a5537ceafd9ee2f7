package logging

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

const (
	policyName     = "lab-logs"
	repositoryName = "lab-snapshots"
	loginSecret    = "kibana-login"
	// setupTimeout bounds the wait for Elasticsearch and Kibana after the charts.
	setupTimeout = 10 * time.Minute
)

// wantViews are the data views of Kibana.
var wantViews = []dataView{
	{ID: "lab-app", Title: "app-*", Name: "app-*", TimeFieldName: "@timestamp"},
	{ID: "lab-k8s", Title: "k8s-*", Name: "k8s-*", TimeFieldName: "@timestamp"},
}

// after runs once the charts are applied: the Kibana login for `lab credentials`, then,
// once ECK has Elasticsearch and Kibana running, what lives inside them.
func after(ctx context.Context, s *session) (bool, error) {
	changed, err := syncLogin(ctx, s)
	if err != nil {
		return false, err
	}
	if s.Simulated() {
		s.Req.Emit("elasticsearch", "simulated cluster: no operator runs Elasticsearch or Kibana; the lifecycle policy, index templates, snapshot repository and data views are made on a real cluster")
		return changed, nil
	}
	if err := waitRunning(ctx, s); err != nil {
		return changed, err
	}
	es, err := openElastic(ctx, s)
	if err != nil {
		return changed, err
	}
	ch, err := configureElastic(ctx, es, s.Config, s.Req)
	if err != nil {
		return changed, err
	}
	kb, err := openKibana(ctx, s)
	if err != nil {
		return changed, err
	}
	ch2, err := configureKibana(ctx, kb, s.Req)
	return changed || ch || ch2, err
}

// syncLogin keeps the Kibana login lab credentials lists: URL and user, with the elastic
// user's password once ECK has generated it. It reports whether the Secret changed.
func syncLogin(ctx context.Context, s *session) (bool, error) {
	ns := s.Config.Namespace
	data := map[string]any{
		kube.URLKey:      b64(kibanaURL(s)),
		kube.UsernameKey: b64(elasticUser),
	}
	pw, err := s.Kube.Kube.CoreV1().Secrets(ns).Get(ctx, elasticUserSecret, metav1.GetOptions{})
	switch {
	case err == nil && len(pw.Data[elasticUser]) > 0:
		data[kube.PasswordKey] = base64.StdEncoding.EncodeToString(pw.Data[elasticUser])
	case err != nil && !apierrors.IsNotFound(err):
		return false, fmt.Errorf("secret %s/%s: %w", ns, elasticUserSecret, err)
	default:
		s.Req.Emit("credentials", "the operator has not generated the elastic user's password yet; lab credentials shows it once it has")
	}
	sec := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": loginSecret, "namespace": ns,
			"labels": map[string]any{kube.CredentialsLabel: "kibana"}},
		"type": "Opaque",
		"data": data,
	}}
	return s.Apply(ctx, sec)
}

func b64(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }

// waitRunning waits, bounded, until ECK reports Elasticsearch green or yellow and Kibana
// green.
func waitRunning(ctx context.Context, s *session) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	s.Req.Emit("elasticsearch", "waiting for the operator to run Elasticsearch and Kibana")
	for {
		es, err := esResource.read(ctx, s)
		if err != nil {
			return err
		}
		kb, err := kibanaResource.read(ctx, s)
		if err != nil {
			return err
		}
		if (es.health == "green" || es.health == "yellow") && kb.health == "green" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Elasticsearch is %q (%d/%d nodes) and Kibana %q after %s: see lab health logging and lab logs elasticsearch -n %s",
				es.health, es.available, es.expected, kb.health, setupTimeout, s.Config.Namespace)
		case <-time.After(2 * time.Second):
		}
	}
}

// configureElastic makes the lifecycle policy, the index templates that put new indices
// under it, and the snapshot repository. It reports whether the policy changed; the
// templates and the repository are written every time, which changes nothing when they
// are the same.
func configureElastic(ctx context.Context, es *elastic, cfg *Config, req *sdk.Request) (bool, error) {
	changed := false
	got, err := es.policyRetention(ctx, policyName)
	if err != nil && statusOf(err) != 404 {
		return false, err
	}
	if got != cfg.Retention {
		req.Emit("retention", "lifecycle policy %s deletes indices after %s", policyName, cfg.Retention)
		if err := es.putPolicy(ctx, policyName, cfg.Retention); err != nil {
			return false, err
		}
		changed = true
	}
	for name, body := range indexTemplates(cfg) {
		if err := es.putTemplate(ctx, name, body); err != nil {
			return changed, err
		}
	}
	for _, pattern := range []string{"app-*", "k8s-*"} {
		if err := es.attachPolicy(ctx, pattern, policyName); err != nil {
			return changed, err
		}
	}
	if err := es.registerRepository(ctx, repositoryName, snapshotMount); err != nil {
		return changed, err
	}
	return changed, nil
}

// indexTemplates give the app-* and k8s-* indices the lifecycle policy, one shard with a
// replica on another node (when there is one), and the mappings of the fields Filebeat
// decodes: the applications' known fields, and everything else's JSON as one flattened
// field.
func indexTemplates(cfg *Config) map[string]map[string]any {
	settings := map[string]any{"index": map[string]any{
		"lifecycle":          map[string]any{"name": policyName},
		"number_of_shards":   1,
		"number_of_replicas": min(1, cfg.ElasticsearchNodes-1),
	}}
	keyword := map[string]any{"type": "keyword"}
	template := func(pattern string, fields map[string]any) map[string]any {
		fields["@timestamp"] = map[string]any{"type": "date"}
		fields["message"] = map[string]any{"type": "text"}
		return map[string]any{
			"index_patterns": []string{pattern},
			"priority":       200,
			"_meta":          map[string]any{"managed_by": "lab"},
			"template":       map[string]any{"settings": settings, "mappings": map[string]any{"properties": fields}},
		}
	}
	return map[string]map[string]any{
		"lab-app": template("app-*", map[string]any{"level": keyword, "service": keyword, "namespace": keyword,
			"pod": keyword, "context": map[string]any{"type": "flattened"}}),
		"lab-k8s": template("k8s-*", map[string]any{"json": map[string]any{"type": "flattened"}}),
	}
}

// configureKibana makes the data views that are missing; it reports whether it made any.
func configureKibana(ctx context.Context, kb *kibanaAPI, req *sdk.Request) (bool, error) {
	changed := false
	for _, v := range wantViews {
		made, err := kb.ensureDataView(ctx, v)
		if err != nil {
			return changed, err
		}
		if made {
			req.Emit("data views", "data view %s made in Kibana", v.Title)
		}
		changed = changed || made
	}
	return changed, nil
}
