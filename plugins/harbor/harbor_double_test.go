package harbor

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// harborDouble is a TEST DOUBLE of Harbor's v2.0 API, not Harbor: an in-memory server
// that answers the endpoints lab calls as goharbor/harbor's api/v2.0/swagger.yaml and
// its server code describe them:
//   - POST /c/login (form principal, password): 200 and a session cookie sid; 401 for a
//     wrong password;
//   - CSRF as Harbor's middleware (gorilla/csrf) does it: /c/login and every request that
//     carries a session are checked, except GET/HEAD; a missing or wrong
//     X-Harbor-CSRF-Token is 403 "CSRF token invalid" with a fresh token in that header,
//     which every checked answer carries;
//   - GET /api/v2.0/health without a login;
//   - projects: POST 201 with Location, 409 for an existing name, GET by name with
//     X-Is-Resource-Name: true (404 when absent), PUT .../metadatas/{name};
//   - robots: POST 201 with Location and the body RobotCreated (name robot$<project>+<name>,
//     a secret of the server's making), GET ?q=Level=project,ProjectID=<id>, PATCH
//     {id} with a secret (400 unless 8-128 characters with upper, lower and digit);
//   - GET /api/v2.0/scanners;
//   - 401 with Harbor's Errors body for any API call without a session.
type harborDouble struct {
	mu       sync.Mutex
	password string
	sessions map[string]bool
	csrf     map[string]string // _gorilla_csrf cookie => the token it stands for
	projects map[string]*project
	robots   map[int64]*doubleRobot
	nextID   int
	health   string // every component's status
	// seen, for the tests: requests that reached it, and those with an Authorization header.
	requests, authHeaders int
}

type doubleRobot struct {
	robot
	projectID int
	secret    string
}

func newHarborDouble(password string) *harborDouble {
	return &harborDouble{password: password, sessions: map[string]bool{}, csrf: map[string]string{},
		projects: map[string]*project{}, robots: map[int64]*doubleRobot{}, nextID: 1, health: "healthy"}
}

var validRobotSecret = regexp.MustCompile(`^.{8,128}$`)

func (d *harborDouble) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /c/login", d.login)
	mux.HandleFunc("GET /api/v2.0/health", d.getHealth)
	api := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, d.authed(h)) }
	api("POST /api/v2.0/projects", d.createProject)
	api("GET /api/v2.0/projects/{name}", d.getProject)
	api("PUT /api/v2.0/projects/{name}/metadatas/{meta}", d.putMetadata)
	api("GET /api/v2.0/robots", d.listRobots)
	api("POST /api/v2.0/robots", d.createRobot)
	api("PATCH /api/v2.0/robots/{id}", d.refreshSecret)
	api("GET /api/v2.0/scanners", d.listScanners)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.requests++
		if r.Header.Get("Authorization") != "" {
			d.authHeaders++
		}
		if !d.csrfOK(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// csrfOK applies Harbor's CSRF rule; it answers the refusal itself.
func (d *harborDouble) csrfOK(w http.ResponseWriter, r *http.Request) bool {
	_, err := r.Cookie("sid")
	session := err == nil
	if strings.HasPrefix(r.URL.Path, "/api/") && !session {
		return true // skipped: no session
	}
	var want string
	if c, err := r.Cookie("_gorilla_csrf"); err == nil {
		want = d.csrf[c.Value]
	}
	if want == "" {
		c := token()
		want = token()
		d.csrf[c] = want
		http.SetCookie(w, &http.Cookie{Name: "_gorilla_csrf", Value: c, Path: "/", HttpOnly: true})
	}
	w.Header().Set(csrfHeader, want)
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Header.Get(csrfHeader) == want {
		return true
	}
	harborError(w, http.StatusForbidden, "FORBIDDEN", "CSRF token invalid")
	return false
}

func harborError(w http.ResponseWriter, status int, code, msg string) {
	reply(w, status, map[string]any{"errors": []any{map[string]string{"code": code, "message": msg}}})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func (d *harborDouble) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		if err != nil || !d.sessions[c.Value] {
			harborError(w, http.StatusUnauthorized, "UNAUTHORIZED", "unauthorized")
			return
		}
		h(w, r)
	}
}

func (d *harborDouble) login(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("principal") != "admin" || r.FormValue("password") != d.password {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sid := token()
	d.sessions[sid] = true
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true})
	w.WriteHeader(http.StatusOK)
}

func (d *harborDouble) getHealth(w http.ResponseWriter, _ *http.Request) {
	var cs []any
	for _, n := range []string{"core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy"} {
		c := map[string]string{"name": n, "status": d.health}
		if d.health != "healthy" {
			c["error"] = n + " is down"
		}
		cs = append(cs, c)
	}
	reply(w, http.StatusOK, map[string]any{"status": d.health, "components": cs})
}

func (d *harborDouble) createProject(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string            `json:"project_name"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !projectName.MatchString(req.Name) {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid project request")
		return
	}
	if d.projects[req.Name] != nil {
		harborError(w, http.StatusConflict, "CONFLICT", fmt.Sprintf("The project named %s already exists", req.Name))
		return
	}
	md := map[string]string{"public": "false"}
	for k, v := range req.Metadata {
		md[k] = v
	}
	d.nextID++
	d.projects[req.Name] = &project{ID: d.nextID, Name: req.Name, Metadata: md}
	w.Header().Set("Location", "/api/v2.0/projects/"+strconv.Itoa(d.nextID))
	w.WriteHeader(http.StatusCreated)
}

func (d *harborDouble) projectOf(w http.ResponseWriter, r *http.Request) *project {
	ref := r.PathValue("name")
	var p *project
	if r.Header.Get("X-Is-Resource-Name") == "true" {
		p = d.projects[ref]
	} else {
		for _, x := range d.projects {
			if strconv.Itoa(x.ID) == ref {
				p = x
			}
		}
	}
	if p == nil {
		harborError(w, http.StatusNotFound, "NOT_FOUND", "project "+ref+" not found")
	}
	return p
}

func (d *harborDouble) getProject(w http.ResponseWriter, r *http.Request) {
	if p := d.projectOf(w, r); p != nil {
		reply(w, http.StatusOK, p)
	}
}

func (d *harborDouble) putMetadata(w http.ResponseWriter, r *http.Request) {
	p := d.projectOf(w, r)
	if p == nil {
		return
	}
	var md map[string]string
	meta := r.PathValue("meta")
	if err := json.NewDecoder(r.Body).Decode(&md); err != nil || len(md) != 1 || md[meta] == "" {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid metadata")
		return
	}
	p.Metadata[meta] = md[meta]
	reply(w, http.StatusOK, nil)
}

func (d *harborDouble) listRobots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	var id int
	if _, err := fmt.Sscanf(q, "Level=project,ProjectID=%d", &id); err != nil {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "q: "+q)
		return
	}
	out := []robot{}
	for _, rb := range d.robots {
		if rb.projectID == id {
			out = append(out, rb.robot)
		}
	}
	reply(w, http.StatusOK, out)
}

func (d *harborDouble) createRobot(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name        string `json:"name"`
		Level       string `json:"level"`
		Duration    int    `json:"duration"`
		Permissions []struct {
			Kind      string `json:"kind"`
			Namespace string `json:"namespace"`
			Access    []struct{ Resource, Action string }
		} `json:"permissions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Level != "project" || len(req.Permissions) != 1 ||
		req.Permissions[0].Kind != "project" || req.Duration == 0 {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid robot request")
		return
	}
	p := d.projects[req.Permissions[0].Namespace]
	if p == nil {
		harborError(w, http.StatusNotFound, "NOT_FOUND", "project not found")
		return
	}
	name := robotName(p.Name, req.Name)
	for _, rb := range d.robots {
		if rb.Name == name {
			harborError(w, http.StatusConflict, "CONFLICT", "robot "+name+" already exists")
			return
		}
	}
	d.nextID++
	rb := &doubleRobot{robot: robot{ID: int64(d.nextID), Name: name}, projectID: p.ID, secret: token()}
	d.robots[rb.ID] = rb
	w.Header().Set("Location", "/api/v2.0/robots/"+strconv.Itoa(d.nextID))
	reply(w, http.StatusCreated, map[string]any{"id": rb.ID, "name": rb.Name, "secret": rb.secret, "expires_at": -1})
}

func (d *harborDouble) refreshSecret(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	rb := d.robots[id]
	if rb == nil {
		harborError(w, http.StatusNotFound, "NOT_FOUND", "robot not found")
		return
	}
	var req struct{ Secret string }
	_ = json.NewDecoder(r.Body).Decode(&req)
	s := req.Secret
	if s != "" && (!validRobotSecret.MatchString(s) || strings.ToLower(s) == s || strings.ToUpper(s) == s || !strings.ContainsAny(s, "0123456789")) {
		harborError(w, http.StatusBadRequest, "BAD_REQUEST", "the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number")
		return
	}
	if s == "" {
		s = token()
		rb.secret = s
		reply(w, http.StatusOK, map[string]string{"secret": s})
		return
	}
	rb.secret = s
	reply(w, http.StatusOK, map[string]string{})
}

func (d *harborDouble) listScanners(w http.ResponseWriter, _ *http.Request) {
	reply(w, http.StatusOK, []any{map[string]any{"uuid": "8a1b", "name": "Trivy", "url": "http://harbor-trivy:8080",
		"disabled": false, "is_default": true, "auth": "", "skip_certVerify": false}})
}
