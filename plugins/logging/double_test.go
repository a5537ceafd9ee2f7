package logging

// A test double of the parts of Elasticsearch's and Kibana's REST APIs the stack uses,
// which cannot run here. It follows their documented behaviour: basic authentication
// (401 with a security_exception), Elasticsearch's error body
// {"error":{"root_cause":[...],"type","reason"},"status"}, Kibana's
// {"statusCode","error","message"}, the kbn-xsrf header Kibana requires on every request
// that changes something, 409 for a saved object id that exists, snapshots only into a
// repository registered under path.repo, and no restore over an open index.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type doc = map[string]any

type index struct {
	docs   []doc
	closed bool
	policy string
}

type double struct {
	user, password string
	pathRepo       string

	mu        sync.Mutex
	policies  map[string]any // name: the policy
	templates map[string]map[string]any
	repos     map[string]string // name: location
	indices   map[string]*index
	snapshots map[string]map[string]map[string][]doc // repo: snapshot: index: docs
	objects   map[string]map[string]any              // "type/id": saved object
}

func newDouble() *double {
	return &double{user: "elastic", password: "s3cret-from-eck", pathRepo: snapshotMount,
		policies: map[string]any{}, templates: map[string]map[string]any{}, repos: map[string]string{},
		indices: map[string]*index{}, snapshots: map[string]map[string]map[string][]doc{}, objects: map[string]map[string]any{}}
}

// start serves the double's Elasticsearch and Kibana and returns clients of both.
func (d *double) start(t *testing.T) (*elastic, *kibanaAPI) {
	es := httptest.NewServer(d.auth(false, d.elasticsearch))
	kb := httptest.NewServer(d.auth(true, d.kibana))
	t.Cleanup(es.Close)
	t.Cleanup(kb.Close)
	return &elastic{api{base: es.URL, http: es.Client(), user: d.user, password: d.password}},
		&kibanaAPI{api{base: kb.URL, http: kb.Client(), user: d.user, password: d.password, kibana: true}}
}

// add puts documents into an index, as Filebeat would; a new index gets the lifecycle
// policy of the template matching it.
func (d *double) add(name string, docs ...doc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.indexNamed(name).docs = append(d.indexNamed(name).docs, docs...)
}

func (d *double) indexNamed(name string) *index {
	if ix, ok := d.indices[name]; ok {
		return ix
	}
	ix := &index{}
	for _, tpl := range d.templates {
		for _, p := range tpl["index_patterns"].([]any) {
			if ok, _ := path.Match(p.(string), name); ok {
				ix.policy = dig(tpl, "template", "settings", "index", "lifecycle", "name").(string)
			}
		}
	}
	d.indices[name] = ix
	return ix
}

func dig(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func (d *double) auth(kibana bool, next func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, pw, ok := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		d.mu.Lock()
		defer d.mu.Unlock()
		switch {
		case !ok || user != d.user || pw != d.password:
			w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
			if kibana {
				kbError(w, 401, "Unauthorized", "[security_exception]: unable to authenticate user ["+user+"] for REST request ["+r.URL.Path+"]")
				return
			}
			esError(w, 401, "security_exception", "unable to authenticate user ["+user+"] for REST request ["+r.URL.Path+"]")
		case kibana && r.Method != http.MethodGet && r.Header.Get("kbn-xsrf") == "":
			kbError(w, 400, "Bad Request", "Request must contain a kbn-xsrf header.")
		default:
			next(w, r, body)
		}
	}
}

func esError(w http.ResponseWriter, status int, typ, reason string) {
	cause := map[string]any{"type": typ, "reason": reason}
	reply(w, status, map[string]any{"error": map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason}, "status": status})
}

func kbError(w http.ResponseWriter, status int, err, msg string) {
	reply(w, status, map[string]any{"statusCode": status, "error": err, "message": msg})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var ack = map[string]any{"acknowledged": true}

func (d *double) elasticsearch(w http.ResponseWriter, r *http.Request, body []byte) {
	var in map[string]any
	if len(body) > 0 && json.Unmarshal(body, &in) != nil {
		esError(w, 400, "parse_exception", "request body is required to be valid JSON")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	route := r.Method + " " + shape(parts)
	switch route {
	case "GET _cluster/health":
		reply(w, 200, map[string]any{"cluster_name": esName, "status": "green", "number_of_nodes": 3})
	case "PUT _ilm/policy/*":
		if dig(in, "policy", "phases") == nil {
			esError(w, 400, "x_content_parse_exception", "[put_lifecycle_request] policy is missing phases")
			return
		}
		d.policies[parts[2]] = in["policy"]
		reply(w, 200, ack)
	case "GET _ilm/policy/*":
		p, ok := d.policies[parts[2]]
		if !ok {
			esError(w, 404, "resource_not_found_exception", "Lifecycle policy not found: "+parts[2])
			return
		}
		reply(w, 200, map[string]any{parts[2]: map[string]any{"version": 1, "modified_date": time.Now().UTC(), "policy": p}})
	case "PUT _index_template/*":
		if _, ok := in["index_patterns"].([]any); !ok {
			esError(w, 400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
			return
		}
		d.templates[parts[1]] = in
		reply(w, 200, ack)
	case "PUT */_settings":
		names := d.match(parts[0], false)
		if len(names) == 0 && q.Get("allow_no_indices") != "true" {
			esError(w, 404, "index_not_found_exception", "no such index ["+parts[0]+"]")
			return
		}
		for _, n := range names {
			if p, ok := dig(in, "index", "lifecycle", "name").(string); ok {
				d.indices[n].policy = p
			}
		}
		reply(w, 200, ack)
	case "POST */_count":
		d.count(w, parts[0], in)
	case "PUT _snapshot/*":
		d.register(w, parts[1], in)
	case "PUT _snapshot/*/*":
		d.snapshot(w, parts[1], parts[2], in, q.Get("wait_for_completion") == "true")
	case "POST */_close":
		for _, n := range d.match(parts[0], true) {
			d.indices[n].closed = true
		}
		reply(w, 200, map[string]any{"acknowledged": true, "shards_acknowledged": true})
	case "POST _snapshot/*/*/_restore":
		d.restore(w, parts[1], parts[2], in)
	default:
		esError(w, 405, "illegal_argument_exception", fmt.Sprintf("no handler found for uri [%s] and method [%s]", r.URL.Path, r.Method))
	}
}

// shape names a path by its fixed parts: "_ilm/policy/lab-logs" is "_ilm/policy/*".
func shape(parts []string) string {
	out := slices.Clone(parts)
	for i, p := range out {
		if !strings.HasPrefix(p, "_") && !(i == 1 && p == "policy") {
			out[i] = "*"
		}
	}
	return strings.Join(out, "/")
}

// match expands a comma-separated list of names and wildcards into the indices that
// exist: wildcards only into open ones (expand_wildcards=open), names as they are.
func (d *double) match(list string, withClosed bool) []string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		for n, ix := range d.indices {
			ok, _ := path.Match(p, n)
			if ok && (withClosed || !ix.closed || !strings.Contains(p, "*")) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

var nowMinus = regexp.MustCompile(`^now-([0-9]+)m$`)

func (d *double) count(w http.ResponseWriter, pattern string, in map[string]any) {
	gte, _ := dig(in, "query", "range", "@timestamp", "gte").(string)
	m := nowMinus.FindStringSubmatch(gte)
	if m == nil {
		esError(w, 400, "parse_exception", "failed to parse date field ["+gte+"]")
		return
	}
	var minutes int
	fmt.Sscan(m[1], &minutes)
	since := time.Now().Add(-time.Duration(minutes) * time.Minute)
	n := 0
	for _, name := range d.match(pattern, false) {
		for _, doc := range d.indices[name].docs {
			ts, err := time.Parse(time.RFC3339, doc["@timestamp"].(string))
			if err == nil && !ts.Before(since) {
				n++
			}
		}
	}
	reply(w, 200, map[string]any{"count": n, "_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0}})
}

func (d *double) register(w http.ResponseWriter, repo string, in map[string]any) {
	loc, _ := dig(in, "settings", "location").(string)
	switch {
	case in["type"] != "fs":
		esError(w, 500, "repository_exception", fmt.Sprintf("[%s] repository type [%v] does not exist", repo, in["type"]))
	case loc == "" || !strings.HasPrefix(loc, d.pathRepo):
		esError(w, 500, "repository_exception", fmt.Sprintf("[%s] location [%s] doesn't match any of the locations specified by path.repo because this setting is empty", repo, loc))
	default:
		d.repos[repo] = loc
		if d.snapshots[repo] == nil {
			d.snapshots[repo] = map[string]map[string][]doc{}
		}
		reply(w, 200, ack)
	}
}

func (d *double) snapshot(w http.ResponseWriter, repo, name string, in map[string]any, wait bool) {
	if _, ok := d.repos[repo]; !ok {
		esError(w, 404, "repository_missing_exception", "["+repo+"] missing")
		return
	}
	if _, ok := d.snapshots[repo][name]; ok {
		esError(w, 400, "invalid_snapshot_name_exception", fmt.Sprintf("[%s:%s] Invalid snapshot name [%s], snapshot with the same name already exists", repo, name, name))
		return
	}
	list, _ := in["indices"].(string)
	snap := map[string][]doc{}
	for _, n := range d.match(list, false) {
		snap[n] = slices.Clone(d.indices[n].docs)
	}
	d.snapshots[repo][name] = snap
	if !wait {
		reply(w, 200, map[string]any{"accepted": true})
		return
	}
	names := slices.Sorted(maps.Keys(snap))
	reply(w, 200, map[string]any{"snapshot": map[string]any{"snapshot": name, "uuid": "dGVzdA", "repository": repo,
		"state": "SUCCESS", "indices": names,
		"shards": map[string]any{"total": len(names), "failed": 0, "successful": len(names)}}})
}

func (d *double) restore(w http.ResponseWriter, repo, name string, in map[string]any) {
	snap, ok := d.snapshots[repo][name]
	if !ok {
		esError(w, 404, "snapshot_missing_exception", fmt.Sprintf("[%s:%s] is missing", repo, name))
		return
	}
	list, _ := in["indices"].(string)
	var names []string
	for n := range snap {
		for _, p := range strings.Split(list, ",") {
			if ok, _ := path.Match(p, n); ok && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		if ix, ok := d.indices[n]; ok && !ix.closed {
			esError(w, 500, "snapshot_restore_exception", fmt.Sprintf("[%s:%s/dGVzdA] cannot restore index [%s] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name", repo, name, n))
			return
		}
	}
	for _, n := range names {
		ix := d.indexNamed(n)
		ix.docs, ix.closed = slices.Clone(snap[n]), false
	}
	slices.Sort(names)
	reply(w, 200, map[string]any{"snapshot": map[string]any{"snapshot": name, "indices": names,
		"shards": map[string]any{"total": len(names), "failed": 0, "successful": len(names)}}})
}

// exportable are the saved object types Kibana exports.
var exportable = []string{"index-pattern", "search", "visualization", "dashboard", "lens", "tag", "map", "config"}

func (d *double) kibana(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method + " " + r.URL.Path {
	case "GET /api/data_views":
		var views []any
		for _, key := range slices.Sorted(maps.Keys(d.objects)) {
			o := d.objects[key]
			if o["type"] == "index-pattern" {
				a := o["attributes"].(map[string]any)
				views = append(views, map[string]any{"id": o["id"], "title": a["title"], "name": a["name"],
					"namespaces": []any{"default"}, "typeMeta": map[string]any{}})
			}
		}
		reply(w, 200, map[string]any{"data_view": views})
	case "POST /api/data_views/data_view":
		d.createDataView(w, body)
	case "POST /api/saved_objects/_export":
		d.export(w, body)
	case "POST /api/saved_objects/_import":
		d.importObjects(w, r)
	default:
		kbError(w, 404, "Not Found", "Not Found")
	}
}

func (d *double) createDataView(w http.ResponseWriter, body []byte) {
	var in struct {
		DataView map[string]any `json:"data_view"`
	}
	if json.Unmarshal(body, &in) != nil || in.DataView["title"] == nil {
		kbError(w, 400, "Bad Request", "[request body.data_view.title]: expected value of type [string] but got [undefined]")
		return
	}
	v := in.DataView
	id, _ := v["id"].(string)
	if id == "" {
		id = fmt.Sprintf("generated-%d", len(d.objects))
	}
	if _, ok := d.objects["index-pattern/"+id]; ok {
		kbError(w, 409, "Conflict", "Saved object [index-pattern/"+id+"] conflict")
		return
	}
	for _, o := range d.objects {
		if o["type"] == "index-pattern" && o["attributes"].(map[string]any)["title"] == v["title"] {
			kbError(w, 400, "Bad Request", fmt.Sprintf("Duplicate data view: %v", v["title"]))
			return
		}
	}
	attrs := map[string]any{"title": v["title"], "name": v["name"], "timeFieldName": v["timeFieldName"]}
	d.objects["index-pattern/"+id] = map[string]any{"id": id, "type": "index-pattern", "attributes": attrs}
	reply(w, 200, map[string]any{"data_view": map[string]any{"id": id, "title": v["title"], "name": v["name"], "timeFieldName": v["timeFieldName"]}})
}

func (d *double) export(w http.ResponseWriter, body []byte) {
	var in struct {
		Type []string `json:"type"`
	}
	if json.Unmarshal(body, &in) != nil || len(in.Type) == 0 {
		kbError(w, 400, "Bad Request", "Either `type` or `objects` are required.")
		return
	}
	for _, t := range in.Type {
		if !slices.Contains(exportable, t) {
			kbError(w, 400, "Bad Request", "Trying to export non-exportable type(s): "+t)
			return
		}
	}
	w.Header().Set("Content-Type", "application/ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="export.ndjson"`)
	enc := json.NewEncoder(w)
	n := 0
	for _, key := range slices.Sorted(maps.Keys(d.objects)) {
		if o := d.objects[key]; slices.Contains(in.Type, o["type"].(string)) {
			_ = enc.Encode(o)
			n++
		}
	}
	_ = enc.Encode(map[string]any{"excludedObjects": []any{}, "excludedObjectsCount": 0, "exportedCount": n,
		"missingRefCount": 0, "missingReferences": []any{}})
}

func (d *double) importObjects(w http.ResponseWriter, r *http.Request) {
	f, _, err := r.FormFile("file")
	if err != nil {
		kbError(w, 415, "Unsupported Media Type", "Unsupported Media Type")
		return
	}
	b, _ := io.ReadAll(f)
	overwrite := r.URL.Query().Get("overwrite") == "true"
	var errs []any
	ok := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var o map[string]any
		if json.Unmarshal([]byte(line), &o) != nil {
			kbError(w, 400, "Bad Request", "Unexpected token in JSON")
			return
		}
		if _, summary := o["exportedCount"]; summary {
			continue
		}
		key := fmt.Sprintf("%v/%v", o["type"], o["id"])
		if _, exists := d.objects[key]; exists && !overwrite {
			errs = append(errs, map[string]any{"id": o["id"], "type": o["type"], "error": map[string]any{"type": "conflict"}})
			continue
		}
		d.objects[key] = o
		ok++
	}
	reply(w, 200, map[string]any{"success": len(errs) == 0, "successCount": ok, "errors": errs})
}
