package monitoring

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"sync"
)

// grafanaDouble is a TEST DOUBLE of Grafana's HTTP API: an in-memory server that answers
// the few endpoints lab's backup and restore call, with Grafana's session login. It is not
// Grafana; it lets the client's requests, paging, folder order and session handling be
// checked over real HTTP, and through the real API server's service proxy.
type grafanaDouble struct {
	mu             sync.Mutex
	user, password string
	sessions       map[string]bool
	folders        map[string]folder
	boards         map[string]*doubleBoard
	datasources    map[string]map[string]any
	nextID         int
	// seen records what reached the server, for the tests to check.
	authHeaders int
	requests    int
}

type doubleBoard struct {
	dashboard   map[string]any
	folderUID   string
	provisioned bool
}

func newGrafanaDouble(user, password string) *grafanaDouble {
	return &grafanaDouble{user: user, password: password, sessions: map[string]bool{},
		folders: map[string]folder{}, boards: map[string]*doubleBoard{}, datasources: map[string]map[string]any{}, nextID: 100}
}

func (g *grafanaDouble) addBoard(uid, title, folderUID string, provisioned bool) {
	g.nextID++
	g.boards[uid] = &doubleBoard{dashboard: map[string]any{"id": g.nextID, "uid": uid, "title": title, "version": 3,
		"panels": []any{map[string]any{"type": "timeseries", "title": title + " panel"}}}, folderUID: folderUID, provisioned: provisioned}
}

func (g *grafanaDouble) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", g.login)
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"database": "ok", "version": "test-double"})
	})
	api := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, g.authed(h)) }
	api("GET /api/folders", g.listFolders)
	api("GET /api/folders/{uid}", g.getFolder)
	api("POST /api/folders", g.createFolder)
	api("PUT /api/folders/{uid}", g.updateFolder)
	api("GET /api/search", g.search)
	api("GET /api/dashboards/uid/{uid}", g.getBoard)
	api("POST /api/dashboards/db", g.saveBoard)
	api("GET /api/datasources", g.listDatasources)
	api("GET /api/datasources/uid/{uid}", g.getDatasource)
	api("POST /api/datasources", g.createDatasource)
	api("PUT /api/datasources/uid/{uid}", g.updateDatasource)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.requests++
		if r.Header.Get("Authorization") != "" {
			g.authHeaders++
		}
		g.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *grafanaDouble) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ User, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.User != g.user || in.Password != g.password {
		reply(w, 401, map[string]any{"message": "Invalid username or password"})
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	g.mu.Lock()
	g.sessions[id] = true
	g.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "grafana_session", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	reply(w, 200, map[string]any{"message": "Logged in"})
}

func (g *grafanaDouble) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("grafana_session")
		g.mu.Lock()
		ok := err == nil && g.sessions[c.Value]
		g.mu.Unlock()
		if !ok {
			reply(w, 401, map[string]any{"message": "Unauthorized"})
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		h(w, r)
	}
}

func (g *grafanaDouble) listFolders(w http.ResponseWriter, r *http.Request) {
	parent := r.URL.Query().Get("parentUid")
	out := []folder{}
	for _, f := range g.folders {
		if f.ParentUID == parent {
			out = append(out, folder{UID: f.UID, Title: f.Title, ParentUID: f.ParentUID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	reply(w, 200, out)
}

func (g *grafanaDouble) getFolder(w http.ResponseWriter, r *http.Request) {
	f, ok := g.folders[r.PathValue("uid")]
	if !ok {
		reply(w, 404, map[string]any{"message": "folder not found"})
		return
	}
	reply(w, 200, f)
}

func (g *grafanaDouble) createFolder(w http.ResponseWriter, r *http.Request) {
	var f folder
	if err := json.NewDecoder(r.Body).Decode(&f); err != nil || f.Title == "" {
		reply(w, 400, map[string]any{"message": "bad folder"})
		return
	}
	if _, ok := g.folders[f.UID]; ok {
		reply(w, 409, map[string]any{"message": "a folder with the same uid already exists"})
		return
	}
	if _, ok := g.folders[f.ParentUID]; f.ParentUID != "" && !ok {
		reply(w, 404, map[string]any{"message": "parent folder not found"})
		return
	}
	g.folders[f.UID] = f
	reply(w, 200, f)
}

func (g *grafanaDouble) updateFolder(w http.ResponseWriter, r *http.Request) {
	f, ok := g.folders[r.PathValue("uid")]
	if !ok {
		reply(w, 404, map[string]any{"message": "folder not found"})
		return
	}
	var in struct{ Title string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.Title = in.Title
	g.folders[f.UID] = f
	reply(w, 200, f)
}

func (g *grafanaDouble) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("type") != "dash-db" {
		reply(w, 400, map[string]any{"message": "the double answers type=dash-db only"})
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	page, _ := strconv.Atoi(q.Get("page"))
	if limit <= 0 || page <= 0 {
		reply(w, 400, map[string]any{"message": "limit and page required"})
		return
	}
	uids := make([]string, 0, len(g.boards))
	for uid := range g.boards {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	out := []dashboardRef{}
	for i := (page - 1) * limit; i < len(uids) && i < page*limit; i++ {
		b := g.boards[uids[i]]
		out = append(out, dashboardRef{UID: uids[i], Title: b.dashboard["title"].(string), FolderUID: b.folderUID})
	}
	reply(w, 200, out)
}

func (g *grafanaDouble) getBoard(w http.ResponseWriter, r *http.Request) {
	b, ok := g.boards[r.PathValue("uid")]
	if !ok {
		reply(w, 404, map[string]any{"message": "Dashboard not found"})
		return
	}
	reply(w, 200, map[string]any{"dashboard": b.dashboard,
		"meta": map[string]any{"folderUid": b.folderUID, "folderTitle": g.folders[b.folderUID].Title, "provisioned": b.provisioned}})
}

func (g *grafanaDouble) saveBoard(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Dashboard map[string]any `json:"dashboard"`
		FolderUID string         `json:"folderUid"`
		Overwrite bool           `json:"overwrite"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Dashboard == nil {
		reply(w, 400, map[string]any{"message": "bad dashboard"})
		return
	}
	uid, _ := in.Dashboard["uid"].(string)
	old := g.boards[uid]
	switch {
	case in.Dashboard["id"] != nil && (old == nil || old.dashboard["id"] != in.Dashboard["id"]):
		// Grafana refuses an id it does not have: ids belong to one database.
		reply(w, 404, map[string]any{"message": "Dashboard not found"})
		return
	case old != nil && old.provisioned:
		reply(w, 400, map[string]any{"message": "Cannot save provisioned dashboard"})
		return
	case old != nil && !in.Overwrite:
		reply(w, 412, map[string]any{"message": "The dashboard has been changed by someone else"})
		return
	case in.FolderUID != "" && g.folders[in.FolderUID].UID == "":
		reply(w, 400, map[string]any{"message": "folder not found"})
		return
	}
	g.nextID++
	d := map[string]any{}
	for k, v := range in.Dashboard {
		d[k] = v
	}
	d["id"] = g.nextID
	g.boards[uid] = &doubleBoard{dashboard: d, folderUID: in.FolderUID}
	reply(w, 200, map[string]any{"status": "success", "uid": uid})
}

func (g *grafanaDouble) listDatasources(w http.ResponseWriter, r *http.Request) {
	uids := make([]string, 0, len(g.datasources))
	for uid := range g.datasources {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	out := []map[string]any{}
	for _, uid := range uids {
		out = append(out, g.datasources[uid])
	}
	reply(w, 200, out)
}

func (g *grafanaDouble) getDatasource(w http.ResponseWriter, r *http.Request) {
	ds, ok := g.datasources[r.PathValue("uid")]
	if !ok {
		reply(w, 404, map[string]any{"message": "Data source not found"})
		return
	}
	reply(w, 200, ds)
}

func (g *grafanaDouble) createDatasource(w http.ResponseWriter, r *http.Request) {
	var ds map[string]any
	if err := json.NewDecoder(r.Body).Decode(&ds); err != nil {
		reply(w, 400, map[string]any{"message": "bad data source"})
		return
	}
	uid, _ := ds["uid"].(string)
	if _, ok := g.datasources[uid]; ok {
		reply(w, 409, map[string]any{"message": "data source with the same uid already exists"})
		return
	}
	g.nextID++
	ds["id"] = g.nextID
	g.datasources[uid] = ds
	reply(w, 200, map[string]any{"message": "Datasource added", "datasource": ds})
}

func (g *grafanaDouble) updateDatasource(w http.ResponseWriter, r *http.Request) {
	old, ok := g.datasources[r.PathValue("uid")]
	if !ok {
		reply(w, 404, map[string]any{"message": "Data source not found"})
		return
	}
	if ro, _ := old["readOnly"].(bool); ro {
		reply(w, 403, map[string]any{"message": "Cannot update read-only data source"})
		return
	}
	var ds map[string]any
	_ = json.NewDecoder(r.Body).Decode(&ds)
	ds["id"] = old["id"]
	g.datasources[r.PathValue("uid")] = ds
	reply(w, 200, map[string]any{"message": "Datasource updated"})
}
