package logging

// The Elasticsearch and Kibana client against the test double of double_test.go: they
// cannot run here (no container image can be pulled), so these tests prove the requests
// and the handling of the documented answers, not a live service.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/sdk"
)

func statuses(h *sdk.Health) map[string]sdk.Status {
	out := map[string]sdk.Status{}
	for _, c := range h.Checks {
		out[c.Name] = c.Status
	}
	return out
}

func message(h *sdk.Health, name string) string {
	for _, c := range h.Checks {
		if c.Name == name {
			return c.Message
		}
	}
	return ""
}

func ago(d time.Duration) string { return time.Now().Add(-d).UTC().Format(time.RFC3339) }

// The first apply makes the lifecycle policy, the templates, the repository and both data
// views; the second changes nothing and duplicates nothing.
func TestConfigureIsIdempotent(t *testing.T) {
	d := newDouble()
	es, kb := d.start(t)
	ctx := context.Background()
	cfg := defaults()
	req := &sdk.Request{}
	// Filebeat got there first: an index made before its template existed.
	d.add("k8s-2026.12.01", doc{"@timestamp": ago(time.Minute), "message": "early"})

	changed, err := configureElastic(ctx, es, cfg, req)
	require.NoError(t, err)
	assert.True(t, changed)
	made, err := configureKibana(ctx, kb, req)
	require.NoError(t, err)
	assert.True(t, made)

	got, err := es.policyRetention(ctx, policyName)
	require.NoError(t, err)
	assert.Equal(t, "7d", got)
	assert.Equal(t, policyName, d.indices["k8s-2026.12.01"].policy, "an index older than its template is put under the policy")
	d.add("app-2026.12.01", doc{"@timestamp": ago(time.Minute), "message": "hello"})
	assert.Equal(t, policyName, d.indices["app-2026.12.01"].policy, "a new index gets the policy from its template")
	assert.Equal(t, snapshotMount, d.repos[repositoryName])

	changed, err = configureElastic(ctx, es, cfg, req)
	require.NoError(t, err)
	assert.False(t, changed, "same retention, same policy")
	made, err = configureKibana(ctx, kb, req)
	require.NoError(t, err)
	assert.False(t, made)
	views, err := kb.dataViews(ctx)
	require.NoError(t, err)
	var titles []string
	for _, v := range views {
		titles = append(titles, v.Title)
	}
	assert.ElementsMatch(t, []string{"app-*", "k8s-*"}, titles)
	assert.Equal(t, "@timestamp", d.objects["index-pattern/lab-app"]["attributes"].(map[string]any)["timeFieldName"])

	cfg.Retention = "30d"
	changed, err = configureElastic(ctx, es, cfg, req)
	require.NoError(t, err)
	assert.True(t, changed)
	got, _ = es.policyRetention(ctx, policyName)
	assert.Equal(t, "30d", got)
}

// A data view whose id exists under another title (made by a concurrent apply) is a 409
// from Kibana, which is not an error.
func TestDataViewConflictIsNotAnError(t *testing.T) {
	d := newDouble()
	_, kb := d.start(t)
	d.objects["index-pattern/lab-app"] = map[string]any{"id": "lab-app", "type": "index-pattern",
		"attributes": map[string]any{"title": "app-renamed-*"}}
	made, err := kb.ensureDataView(context.Background(), wantViews[0])
	require.NoError(t, err)
	assert.False(t, made)
}

// Kibana refuses changes without kbn-xsrf, and both refuse a wrong password: the errors
// carry the service's own words.
func TestAPIErrors(t *testing.T) {
	d := newDouble()
	es, kb := d.start(t)
	ctx := context.Background()

	noXSRF := &kibanaAPI{kb.api}
	noXSRF.kibana = false
	_, err := noXSRF.ensureDataView(ctx, wantViews[0])
	require.Error(t, err)
	assert.Equal(t, 400, statusOf(err))
	assert.Contains(t, err.Error(), "kbn-xsrf")

	wrong := &elastic{es.api}
	wrong.password = "guess"
	_, err = wrong.health(ctx)
	assert.Equal(t, 401, statusOf(err))
	assert.Contains(t, err.Error(), "security_exception")

	_, err = es.policyRetention(ctx, "nope")
	assert.Equal(t, 404, statusOf(err))
	assert.Contains(t, err.Error(), "resource_not_found_exception: Lifecycle policy not found: nope")

	_, err = es.snapshot(ctx, "unregistered", "s1", snapshotIndices)
	assert.Contains(t, err.Error(), "repository_missing_exception")
	err = es.registerRepository(ctx, "elsewhere", "/tmp/not-in-path-repo")
	assert.Contains(t, err.Error(), "path.repo")
}

// The API checks: healthy once configured and logs arrive, degraded without recent logs or
// with another retention, unhealthy without policy or data views.
func TestAPIChecks(t *testing.T) {
	d := newDouble()
	es, kb := d.start(t)
	ctx := context.Background()
	cfg := defaults()

	h := &sdk.Health{}
	checkPolicy(ctx, cfg, h, es)
	checkDataViews(ctx, h, kb)
	checkDocuments(ctx, h, es)
	assert.Equal(t, map[string]sdk.Status{"lifecycle policy": sdk.Unhealthy, "data views": sdk.Unhealthy,
		"app-* documents": sdk.Degraded, "k8s-* documents": sdk.Degraded}, statuses(h))
	assert.Contains(t, message(h, "data views"), "app-*, k8s-*")

	_, err := configureElastic(ctx, es, cfg, &sdk.Request{})
	require.NoError(t, err)
	_, err = configureKibana(ctx, kb, &sdk.Request{})
	require.NoError(t, err)
	d.add("app-2026.12.01", doc{"@timestamp": ago(2 * time.Minute)}, doc{"@timestamp": ago(time.Hour)})
	d.add("k8s-2026.12.01", doc{"@timestamp": ago(10 * time.Second)}, doc{"@timestamp": ago(time.Minute)})
	h = &sdk.Health{}
	checkPolicy(ctx, cfg, h, es)
	checkDataViews(ctx, h, kb)
	checkDocuments(ctx, h, es)
	assert.Equal(t, sdk.Healthy, h.Status(), "%v", h.Checks)
	assert.Equal(t, "1 documents in app-* in the last 5 minutes", message(h, "app-* documents"), "the hour-old one is not counted")
	assert.Equal(t, "2 documents in k8s-* in the last 5 minutes", message(h, "k8s-* documents"))

	cfg.Retention = "3d"
	h = &sdk.Health{}
	checkPolicy(ctx, cfg, h, es)
	assert.Equal(t, sdk.Degraded, h.Status())
	assert.Contains(t, h.Checks[0].Message, "after 7d, the config says 3d")
}

// A backup holds the snapshot's record and Kibana's export; restore brings back the
// indices as they were (over newer ones of the same name) and the saved objects.
func TestBackupAndRestore(t *testing.T) {
	d := newDouble()
	es, kb := d.start(t)
	ctx := context.Background()
	cfg := defaults()
	_, err := configureElastic(ctx, es, cfg, &sdk.Request{})
	require.NoError(t, err)
	_, err = configureKibana(ctx, kb, &sdk.Request{})
	require.NoError(t, err)
	d.add("app-2026.12.01", doc{"@timestamp": ago(time.Minute), "message": "order 1"}, doc{"@timestamp": ago(time.Minute), "message": "order 2"})
	d.add("k8s-2026.12.01", doc{"@timestamp": ago(time.Minute), "message": "kubelet"})
	d.add("other", doc{"@timestamp": ago(time.Minute)})

	dir := t.TempDir()
	files, summary, err := takeBackup(ctx, es, kb, cfg, &sdk.Request{}, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{snapshotFile, savedObjectsFile}, files)
	assert.Contains(t, summary, "2 indices")
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	var rec snapshotRecord
	b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rec))
	assert.Equal(t, []string{"app-2026.12.01", "k8s-2026.12.01"}, rec.Snapshot.Indices, "only the log indices")
	assert.Equal(t, repositoryName, rec.Repository)
	nd, err := os.ReadFile(filepath.Join(dir, savedObjectsFile))
	require.NoError(t, err)
	assert.Contains(t, string(nd), `"title":"app-*"`)
	assert.Contains(t, string(nd), `"exportedCount":2`)

	// A restore over open indices is refused by Elasticsearch; the client closes them.
	err = es.call(ctx, "POST", "/_snapshot/"+repositoryName+"/"+rec.Snapshot.Snapshot+"/_restore?wait_for_completion=true",
		map[string]any{"indices": "app-*"}, nil)
	assert.Contains(t, err.Error(), "an open index with same name already exists")

	// Things change after the backup.
	d.add("app-2026.12.01", doc{"@timestamp": ago(0), "message": "order 3"})
	delete(d.objects, "index-pattern/lab-k8s")

	files, summary, err = restoreBackup(ctx, func() (*elastic, error) { return es, nil },
		func() (*kibanaAPI, error) { return kb, nil }, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{snapshotFile, savedObjectsFile}, files)
	assert.Equal(t, "2 indices from snapshot "+rec.Snapshot.Snapshot+" and 2 Kibana saved objects", summary)
	assert.Len(t, d.indices["app-2026.12.01"].docs, 2, "the index is as in the snapshot")
	assert.False(t, d.indices["app-2026.12.01"].closed, "restored indices are open")
	views, err := kb.dataViews(ctx)
	require.NoError(t, err)
	assert.Len(t, views, 2, "the deleted data view is back, none doubled")
}

// A backup made on a simulated cluster holds nothing, and restoring it touches nothing.
func TestRestoreOfAnEmptyBackup(t *testing.T) {
	never := func() (*elastic, error) { t.Fatal("connected to Elasticsearch"); return nil, nil }
	neverKB := func() (*kibanaAPI, error) { t.Fatal("connected to Kibana"); return nil, nil }
	files, summary, err := restoreBackup(context.Background(), never, neverKB, t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, files)
	assert.True(t, strings.HasPrefix(summary, "no Elasticsearch snapshot"))
}
