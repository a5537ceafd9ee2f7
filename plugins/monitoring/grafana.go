package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nexolab/lab/core/kube"
)

// grafanaAPI talks to Grafana's HTTP API under base. It logs in with the admin's user
// and password (POST /login) and then sends the session cookie: through the API server's
// service proxy a Basic Authorization header would never reach Grafana, because the API
// server removes the Authorization header of every request it authenticates.
type grafanaAPI struct {
	base           string
	client         *http.Client
	user, password string
}

func newGrafanaAPI(base string, transport http.RoundTripper, user, password string) *grafanaAPI {
	jar, _ := cookiejar.New(nil)
	return &grafanaAPI{base: strings.TrimSuffix(base, "/"), user: user, password: password,
		client: &http.Client{Transport: transport, Jar: jar, Timeout: time.Minute}}
}

// grafanaThroughAPIServer reaches the Grafana Service svc of ns through the API server's
// service proxy, with the kubeconfig's credentials for the API server.
func grafanaThroughAPIServer(c *kube.Client, ns, svc, port, user, password string) (*grafanaAPI, error) {
	rt, err := rest.TransportFor(c.Config)
	if err != nil {
		return nil, err
	}
	u := c.Kube.CoreV1().RESTClient().Get().Namespace(ns).Resource("services").
		Name("http:" + svc + ":" + port).SubResource("proxy").URL()
	return newGrafanaAPI(u.String(), rt, user, password), nil
}

// apiError is a Grafana answer other than 2xx.
type apiError struct {
	method, path string
	status       int
	body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("Grafana %s %s: %d %s: %.300s", e.method, e.path, e.status, http.StatusText(e.status), strings.TrimSpace(e.body))
}

func isStatus(err error, code int) bool {
	e, ok := err.(*apiError)
	return ok && e.status == code
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (g *grafanaAPI) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("Grafana %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{method: method, path: path, status: resp.StatusCode, body: string(b)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("Grafana %s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// login opens a session as the admin.
func (g *grafanaAPI) login(ctx context.Context) error {
	err := g.do(ctx, http.MethodPost, "/login", map[string]string{"user": g.user, "password": g.password}, nil)
	if isStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("Grafana refused the login of %q: the password in Secret %s is not the one Grafana's database holds (Grafana keeps the admin password of its first start)", g.user, adminSecret)
	}
	return err
}

// folder is a Grafana folder; ParentUID is set for nested folders.
type folder struct {
	UID       string `json:"uid"`
	Title     string `json:"title"`
	ParentUID string `json:"parentUid,omitempty"`
}

// folders lists every folder, parents before their children.
func (g *grafanaAPI) folders(ctx context.Context) ([]folder, error) {
	var out []folder
	seen := map[string]bool{}
	queue := []string{""}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		q := url.Values{"limit": {"1000"}}
		if parent != "" {
			q.Set("parentUid", parent)
		}
		var list []folder
		if err := g.do(ctx, http.MethodGet, "/api/folders?"+q.Encode(), nil, &list); err != nil {
			return nil, err
		}
		for _, f := range list {
			if seen[f.UID] {
				continue
			}
			seen[f.UID] = true
			if f.ParentUID == "" {
				f.ParentUID = parent
			}
			out = append(out, f)
			queue = append(queue, f.UID)
		}
	}
	return out, nil
}

// dashboardRef is one hit of /api/search.
type dashboardRef struct {
	UID       string `json:"uid"`
	Title     string `json:"title"`
	FolderUID string `json:"folderUid"`
}

// dashboards lists every dashboard, a page at a time.
func (g *grafanaAPI) dashboards(ctx context.Context) ([]dashboardRef, error) {
	const limit = 1000
	var out []dashboardRef
	for page := 1; ; page++ {
		var hits []dashboardRef
		q := url.Values{"type": {"dash-db"}, "limit": {fmt.Sprint(limit)}, "page": {fmt.Sprint(page)}}
		if err := g.do(ctx, http.MethodGet, "/api/search?"+q.Encode(), nil, &hits); err != nil {
			return nil, err
		}
		out = append(out, hits...)
		if len(hits) < limit {
			return out, nil
		}
	}
}

// dashboardDoc is a dashboard as /api/dashboards/uid/<uid> gives it.
type dashboardDoc struct {
	Dashboard map[string]any `json:"dashboard"`
	Meta      struct {
		FolderUID   string `json:"folderUid"`
		FolderTitle string `json:"folderTitle"`
		Provisioned bool   `json:"provisioned"`
	} `json:"meta"`
}

func (g *grafanaAPI) dashboard(ctx context.Context, uid string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := g.do(ctx, http.MethodGet, "/api/dashboards/uid/"+url.PathEscape(uid), nil, &raw)
	return raw, err
}

// saveDashboard creates or replaces a dashboard in a folder ("" is the root).
func (g *grafanaAPI) saveDashboard(ctx context.Context, board map[string]any, folderUID string) error {
	b := make(map[string]any, len(board))
	for k, v := range board {
		b[k] = v
	}
	delete(b, "id") // ids are per database; the uid names the dashboard
	delete(b, "version")
	return g.do(ctx, http.MethodPost, "/api/dashboards/db", map[string]any{
		"dashboard": b, "folderUid": folderUID, "overwrite": true, "message": "restored by lab",
	}, nil)
}

// ensureFolder creates a folder, or renames the one with its uid.
func (g *grafanaAPI) ensureFolder(ctx context.Context, f folder) error {
	var got folder
	err := g.do(ctx, http.MethodGet, "/api/folders/"+url.PathEscape(f.UID), nil, &got)
	switch {
	case isStatus(err, http.StatusNotFound):
		body := map[string]any{"uid": f.UID, "title": f.Title}
		if f.ParentUID != "" {
			body["parentUid"] = f.ParentUID
		}
		return g.do(ctx, http.MethodPost, "/api/folders", body, nil)
	case err != nil:
		return err
	case got.Title != f.Title:
		return g.do(ctx, http.MethodPut, "/api/folders/"+url.PathEscape(f.UID), map[string]any{"title": f.Title, "overwrite": true}, nil)
	}
	return nil
}

// datasources lists the data sources (their secrets never leave Grafana).
func (g *grafanaAPI) datasources(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	err := g.do(ctx, http.MethodGet, "/api/datasources", nil, &out)
	return out, err
}

// ensureDatasource creates a data source, or updates the one with its uid.
func (g *grafanaAPI) ensureDatasource(ctx context.Context, ds map[string]any) error {
	uid, _ := ds["uid"].(string)
	body := make(map[string]any, len(ds))
	for k, v := range ds {
		body[k] = v
	}
	delete(body, "id")
	err := g.do(ctx, http.MethodGet, "/api/datasources/uid/"+url.PathEscape(uid), nil, nil)
	switch {
	case isStatus(err, http.StatusNotFound):
		return g.do(ctx, http.MethodPost, "/api/datasources", body, nil)
	case err != nil:
		return err
	}
	return g.do(ctx, http.MethodPut, "/api/datasources/uid/"+url.PathEscape(uid), body, nil)
}
