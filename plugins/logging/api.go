package logging

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/nexolab/lab/core/kube"
)

// api is a client of Elasticsearch's or Kibana's REST API, with basic authentication
// (over a port-forward, so the header reaches the service). Kibana refuses a request
// that changes something without a kbn-xsrf header.
type api struct {
	base           string
	http           *http.Client
	user, password string
	kibana         bool
}

// client is the kube.API that carries out a request as the fields say now.
func (a *api) client() *kube.API {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.password)))
	if a.kibana {
		h.Set("kbn-xsrf", "lab")
	}
	return &kube.API{Base: a.base, HTTP: a.http, Header: h, MaxAnswer: 256 << 20}
}

// apiError is an answer with an error status. Elasticsearch says
// {"error":{"type","reason"},"status"}; Kibana {"statusCode","error","message"}.
type apiError struct {
	Method, Path string
	Status       int
	Type, Reason string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s: %d", e.Method, e.Path, e.Status)
	if e.Type != "" {
		msg += " " + e.Type
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// statusOf is the HTTP status of an API error, or 0.
func statusOf(err error) int {
	var e *apiError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// call sends a JSON body (when not nil) and decodes the JSON answer into out (when not nil).
func (a *api) call(ctx context.Context, method, path string, body, out any) error {
	return serviceError(a.client().Do(ctx, method, path, body, out))
}

// send makes one request and returns the body of a 2xx answer.
func (a *api) send(ctx context.Context, method, path, contentType string, body io.Reader) ([]byte, error) {
	b, err := a.client().Send(ctx, method, path, contentType, body)
	return b, serviceError(err)
}

// serviceError turns an error status into an *apiError with the service's own words.
func serviceError(err error) error {
	var e *kube.APIError
	if errors.As(err, &e) {
		return errorOf(e.Method, e.Path, e.Status, []byte(e.Body))
	}
	return err
}

func errorOf(method, path string, status int, body []byte) error {
	e := &apiError{Method: method, Path: path, Status: status}
	var es struct {
		Error json.RawMessage `json:"error"`
		// Kibana's
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &es) != nil {
		e.Reason = strings.TrimSpace(string(body))
		return e
	}
	var cause struct{ Type, Reason string }
	if json.Unmarshal(es.Error, &cause) == nil && cause.Type != "" {
		e.Type, e.Reason = cause.Type, cause.Reason
	} else {
		_ = json.Unmarshal(es.Error, &e.Type) // Kibana: "Conflict"; old Elasticsearch: a string
		e.Reason = es.Message
	}
	return e
}

// elastic is the Elasticsearch API.
type elastic struct{ api }

// health is the cluster's health: green, yellow or red.
func (es *elastic) health(ctx context.Context) (string, error) {
	var out struct {
		Status string `json:"status"`
	}
	err := es.call(ctx, http.MethodGet, "/_cluster/health", nil, &out)
	return out.Status, err
}

// putPolicy makes or updates the lifecycle policy that deletes an index once it is older
// than retention.
func (es *elastic) putPolicy(ctx context.Context, name, retention string) error {
	body := map[string]any{"policy": map[string]any{
		"_meta": map[string]any{"managed_by": "lab"},
		"phases": map[string]any{
			"hot":    map[string]any{"min_age": "0ms", "actions": map[string]any{}},
			"delete": map[string]any{"min_age": retention, "actions": map[string]any{"delete": map[string]any{}}},
		},
	}}
	return es.call(ctx, http.MethodPut, "/_ilm/policy/"+url.PathEscape(name), body, nil)
}

// policyRetention is the delete phase's age of a lifecycle policy.
func (es *elastic) policyRetention(ctx context.Context, name string) (string, error) {
	var out map[string]struct {
		Policy struct {
			Phases map[string]struct {
				MinAge string `json:"min_age"`
			} `json:"phases"`
		} `json:"policy"`
	}
	if err := es.call(ctx, http.MethodGet, "/_ilm/policy/"+url.PathEscape(name), nil, &out); err != nil {
		return "", err
	}
	del, ok := out[name].Policy.Phases["delete"]
	if !ok {
		return "", fmt.Errorf("lifecycle policy %s has no delete phase", name)
	}
	return del.MinAge, nil
}

// putTemplate makes or updates an index template.
func (es *elastic) putTemplate(ctx context.Context, name string, body map[string]any) error {
	return es.call(ctx, http.MethodPut, "/_index_template/"+url.PathEscape(name), body, nil)
}

// attachPolicy puts the indices of a pattern that exist under a lifecycle policy (an
// index Filebeat made before its template existed).
func (es *elastic) attachPolicy(ctx context.Context, pattern, policy string) error {
	body := map[string]any{"index": map[string]any{"lifecycle": map[string]any{"name": policy}}}
	return es.call(ctx, http.MethodPut, "/"+pattern+"/_settings?allow_no_indices=true", body, nil)
}

// count is how many documents of the indices of a pattern have a @timestamp since a date
// expression ("now-5m").
func (es *elastic) count(ctx context.Context, pattern, since string) (int, error) {
	body := map[string]any{"query": map[string]any{"range": map[string]any{"@timestamp": map[string]any{"gte": since}}}}
	var out struct {
		Count int `json:"count"`
	}
	err := es.call(ctx, http.MethodPost, "/"+pattern+"/_count?allow_no_indices=true", body, &out)
	return out.Count, err
}

// registerRepository registers (or updates) a shared-filesystem snapshot repository.
func (es *elastic) registerRepository(ctx context.Context, name, location string) error {
	body := map[string]any{"type": "fs", "settings": map[string]any{"location": location}}
	return es.call(ctx, http.MethodPut, "/_snapshot/"+url.PathEscape(name), body, nil)
}

// snapshotInfo is what Elasticsearch says of a snapshot it took or restored.
type snapshotInfo struct {
	Snapshot string   `json:"snapshot"`
	State    string   `json:"state,omitempty"`
	Indices  []string `json:"indices"`
	Shards   struct {
		Total      int `json:"total"`
		Failed     int `json:"failed"`
		Successful int `json:"successful"`
	} `json:"shards"`
}

// snapshot takes a snapshot of the indices and waits for it to complete.
func (es *elastic) snapshot(ctx context.Context, repo, name string, indices []string) (snapshotInfo, error) {
	body := map[string]any{"indices": strings.Join(indices, ","), "ignore_unavailable": true, "include_global_state": false}
	var out struct {
		Snapshot snapshotInfo `json:"snapshot"`
	}
	path := "/_snapshot/" + url.PathEscape(repo) + "/" + url.PathEscape(name) + "?wait_for_completion=true"
	if err := es.call(ctx, http.MethodPut, path, body, &out); err != nil {
		return out.Snapshot, err
	}
	if s := out.Snapshot; s.State != "SUCCESS" {
		return s, fmt.Errorf("snapshot %s: %s, %d of %d shards failed", name, s.State, s.Shards.Failed, s.Shards.Total)
	}
	return out.Snapshot, nil
}

// restore brings a snapshot's indices back. An open index cannot be restored over, so the
// snapshot's indices that exist are closed first; the restore replaces and reopens them.
func (es *elastic) restore(ctx context.Context, repo, name string, indices []string) (snapshotInfo, error) {
	var out struct {
		Snapshot snapshotInfo `json:"snapshot"`
	}
	if len(indices) == 0 {
		return out.Snapshot, nil
	}
	list := strings.Join(indices, ",")
	if err := es.call(ctx, http.MethodPost, "/"+list+"/_close?ignore_unavailable=true&allow_no_indices=true", nil, nil); err != nil {
		return out.Snapshot, err
	}
	body := map[string]any{"indices": list, "include_global_state": false}
	path := "/_snapshot/" + url.PathEscape(repo) + "/" + url.PathEscape(name) + "/_restore?wait_for_completion=true"
	if err := es.call(ctx, http.MethodPost, path, body, &out); err != nil {
		return out.Snapshot, err
	}
	if s := out.Snapshot; s.Shards.Failed > 0 {
		return s, fmt.Errorf("restore of %s: %d of %d shards failed", name, s.Shards.Failed, s.Shards.Total)
	}
	return out.Snapshot, nil
}

// kibanaAPI is Kibana's API.
type kibanaAPI struct{ api }

type dataView struct {
	ID            string `json:"id,omitempty"`
	Title         string `json:"title"`
	Name          string `json:"name,omitempty"`
	TimeFieldName string `json:"timeFieldName,omitempty"`
}

// dataViews lists the data views of the default space.
func (kb *kibanaAPI) dataViews(ctx context.Context) ([]dataView, error) {
	var out struct {
		DataView []dataView `json:"data_view"`
	}
	err := kb.call(ctx, http.MethodGet, "/api/data_views", nil, &out)
	return out.DataView, err
}

// ensureDataView creates a data view unless one of its title exists; Kibana answers 409
// for an id that exists (one made by a concurrent apply). It reports whether it made one.
func (kb *kibanaAPI) ensureDataView(ctx context.Context, want dataView) (bool, error) {
	have, err := kb.dataViews(ctx)
	if err != nil {
		return false, err
	}
	for _, v := range have {
		if v.Title == want.Title {
			return false, nil
		}
	}
	err = kb.call(ctx, http.MethodPost, "/api/data_views/data_view", map[string]any{"data_view": want}, nil)
	if statusOf(err) == http.StatusConflict {
		return false, nil
	}
	return err == nil, err
}

// exportTypes are the saved objects a backup holds: what users make in Kibana.
var exportTypes = []string{"index-pattern", "search", "visualization", "dashboard", "lens", "tag"}

// exportSavedObjects returns the saved objects as NDJSON, the last line Kibana's summary.
func (kb *kibanaAPI) exportSavedObjects(ctx context.Context) ([]byte, error) {
	b, err := json.Marshal(map[string]any{"type": exportTypes, "includeReferencesDeep": true})
	if err != nil {
		return nil, err
	}
	return kb.send(ctx, http.MethodPost, "/api/saved_objects/_export", "application/json", bytes.NewReader(b))
}

// importSavedObjects imports an export, replacing objects of the same id; it returns how
// many objects Kibana imported.
func (kb *kibanaAPI) importSavedObjects(ctx context.Context, ndjson []byte) (int, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", "export.ndjson")
	if err != nil {
		return 0, err
	}
	if _, err := part.Write(ndjson); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	b, err := kb.send(ctx, http.MethodPost, "/api/saved_objects/_import?overwrite=true", w.FormDataContentType(), &body)
	if err != nil {
		return 0, err
	}
	var out struct {
		Success      bool `json:"success"`
		SuccessCount int  `json:"successCount"`
		Errors       []struct {
			ID    string `json:"id"`
			Type  string `json:"type"`
			Error struct {
				Type string `json:"type"`
			} `json:"error"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, fmt.Errorf("saved objects import: answer: %w", err)
	}
	if !out.Success {
		var failed []string
		for _, e := range out.Errors {
			failed = append(failed, fmt.Sprintf("%s %s (%s)", e.Type, e.ID, e.Error.Type))
		}
		return out.SuccessCount, fmt.Errorf("saved objects import: %d imported, failed: %s", out.SuccessCount, strings.Join(failed, ", "))
	}
	return out.SuccessCount, nil
}
