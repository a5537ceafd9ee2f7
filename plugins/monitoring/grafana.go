package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nexolab/lab/core/kube"
)

// grafanaAPI talks to Grafana's HTTP API. It logs in with the admin's user and password
// (POST /login) and then sends the session cookie: through the API server's service proxy
// a Basic Authorization header would never reach Grafana.
type grafanaAPI struct {
	*kube.API
	user, password string
}

func newGrafanaAPI(base string, transport http.RoundTripper, user, password string) *grafanaAPI {
	return &grafanaAPI{API: kube.NewAPI(base, transport), user: user, password: password}
}

// grafanaThroughAPIServer reaches the Grafana Service svc of ns through the API server's
// service proxy.
func grafanaThroughAPIServer(c *kube.Client, ns, svc, port, user, password string) (*grafanaAPI, error) {
	api, err := c.ServiceAPI(ns, svc, port)
	if err != nil {
		return nil, err
	}
	return &grafanaAPI{API: api, user: user, password: password}, nil
}

// login opens a session as the admin.
func (g *grafanaAPI) login(ctx context.Context) error {
	err := g.Do(ctx, http.MethodPost, "/login", map[string]string{"user": g.user, "password": g.password}, nil)
	if kube.IsStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("login of %q refused: the password in Secret %s is not the one Grafana's database holds (Grafana keeps the admin password of its first start)", g.user, adminSecret)
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
		if err := g.Do(ctx, http.MethodGet, "/api/folders?"+q.Encode(), nil, &list); err != nil {
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
		if err := g.Do(ctx, http.MethodGet, "/api/search?"+q.Encode(), nil, &hits); err != nil {
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
	err := g.Do(ctx, http.MethodGet, "/api/dashboards/uid/"+url.PathEscape(uid), nil, &raw)
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
	return g.Do(ctx, http.MethodPost, "/api/dashboards/db", map[string]any{
		"dashboard": b, "folderUid": folderUID, "overwrite": true, "message": "restored by lab",
	}, nil)
}

// ensureFolder creates a folder, or renames the one with its uid.
func (g *grafanaAPI) ensureFolder(ctx context.Context, f folder) error {
	var got folder
	err := g.Do(ctx, http.MethodGet, "/api/folders/"+url.PathEscape(f.UID), nil, &got)
	switch {
	case kube.IsStatus(err, http.StatusNotFound):
		body := map[string]any{"uid": f.UID, "title": f.Title}
		if f.ParentUID != "" {
			body["parentUid"] = f.ParentUID
		}
		return g.Do(ctx, http.MethodPost, "/api/folders", body, nil)
	case err != nil:
		return err
	case got.Title != f.Title:
		return g.Do(ctx, http.MethodPut, "/api/folders/"+url.PathEscape(f.UID), map[string]any{"title": f.Title, "overwrite": true}, nil)
	}
	return nil
}

// datasources lists the data sources (their secrets never leave Grafana).
func (g *grafanaAPI) datasources(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	err := g.Do(ctx, http.MethodGet, "/api/datasources", nil, &out)
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
	err := g.Do(ctx, http.MethodGet, "/api/datasources/uid/"+url.PathEscape(uid), nil, nil)
	switch {
	case kube.IsStatus(err, http.StatusNotFound):
		return g.Do(ctx, http.MethodPost, "/api/datasources", body, nil)
	case err != nil:
		return err
	}
	return g.Do(ctx, http.MethodPut, "/api/datasources/uid/"+url.PathEscape(uid), body, nil)
}
