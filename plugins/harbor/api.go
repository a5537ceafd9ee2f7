package harbor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nexolab/lab/core/kube"
)

// harborAPI talks to Harbor's v2.0 API (api/v2.0/swagger.yaml of goharbor/harbor) under
// base. Through the API server's service proxy no Authorization header reaches Harbor
// (the API server drops it once it has authenticated the client), so the client logs in
// the way Harbor's portal does: POST /c/login opens a session (cookie sid), and every
// request of a session carries the CSRF token Harbor last sent (X-Harbor-CSRF-Token,
// checked against its _gorilla_csrf cookie). A request refused for a missing or stale
// token is sent once more with the token of the refusal.
type harborAPI struct {
	base           string
	client         *http.Client
	user, password string
	csrf           string
}

const csrfHeader = "X-Harbor-CSRF-Token"

func newHarborAPI(base string, transport http.RoundTripper, user, password string) *harborAPI {
	jar, _ := cookiejar.New(nil)
	return &harborAPI{base: strings.TrimSuffix(base, "/"), user: user, password: password,
		client: &http.Client{Transport: transport, Jar: jar, Timeout: time.Minute}}
}

// harborThroughAPIServer reaches Harbor's core Service through the API server's service
// proxy, with the kubeconfig's credentials for the API server.
func harborThroughAPIServer(c *kube.Client, ns, svc, port, user, password string) (*harborAPI, error) {
	rt, err := rest.TransportFor(c.Config)
	if err != nil {
		return nil, err
	}
	u := c.Kube.CoreV1().RESTClient().Get().Namespace(ns).Resource("services").
		Name("http:" + svc + ":" + port).SubResource("proxy").URL()
	return newHarborAPI(u.String(), rt, user, password), nil
}

// apiError is an answer of Harbor other than 2xx, with the message of its Errors body.
type apiError struct {
	method, path string
	status       int
	message      string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("Harbor %s %s: %d %s: %.300s", e.method, e.path, e.status, http.StatusText(e.status), e.message)
}

func isStatus(err error, code int) bool {
	e, ok := err.(*apiError)
	return ok && e.status == code
}

// request is one call: a JSON body (or a form), headers beyond the usual.
type request struct {
	method, path string
	json         any
	form         url.Values
	header       map[string]string
}

// answer is what came back of a 2xx call.
type answer struct {
	header http.Header
	body   []byte
}

func (h *harborAPI) send(ctx context.Context, r request) (*answer, error) {
	a, err := h.once(ctx, r)
	if e, ok := err.(*apiError); ok && e.status == http.StatusForbidden && strings.Contains(strings.ToLower(e.message), "csrf") {
		a, err = h.once(ctx, r) // with the token the refusal carried
	}
	return a, err
}

func (h *harborAPI) once(ctx context.Context, r request) (*answer, error) {
	var body io.Reader
	contentType := ""
	switch {
	case r.form != nil:
		body, contentType = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return nil, err
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, h.base+r.path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if h.csrf != "" {
		req.Header.Set(csrfHeader, h.csrf)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Harbor %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	if t := resp.Header.Get(csrfHeader); t != "" {
		h.csrf = t
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("Harbor %s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &apiError{method: r.method, path: r.path, status: resp.StatusCode, message: errorMessage(b)}
	}
	return &answer{header: resp.Header, body: b}, nil
}

// errorMessage is the message of Harbor's Errors body, or the body itself.
func errorMessage(b []byte) string {
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
		parts := make([]string, len(e.Errors))
		for i, x := range e.Errors {
			parts[i] = x.Code + ": " + x.Message
		}
		return strings.Join(parts, "; ")
	}
	return strings.TrimSpace(string(b))
}

// get decodes a JSON answer into out.
func (h *harborAPI) get(ctx context.Context, path string, header map[string]string, out any) error {
	a, err := h.send(ctx, request{method: http.MethodGet, path: path, header: header})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return fmt.Errorf("Harbor GET %s: unexpected answer: %w", path, err)
	}
	return nil
}

// errRefused is a login Harbor turned down (401): waiting does not help.
var errRefused = errors.New("Harbor refused the login")

// login opens a session as the admin.
func (h *harborAPI) login(ctx context.Context) error {
	_, err := h.send(ctx, request{method: http.MethodPost, path: "/c/login",
		form: url.Values{"principal": {h.user}, "password": {h.password}}})
	if isStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("%w of %q: the password in Secret %s is not the one Harbor's database holds (Harbor keeps the admin password of its first start)", errRefused, h.user, adminSecret)
	}
	return err
}

// health is GET /api/v2.0/health, which needs no login.
type health struct {
	Status     string `json:"status"`
	Components []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	} `json:"components"`
}

func (h *harborAPI) health(ctx context.Context) (*health, error) {
	var out health
	return &out, h.get(ctx, "/api/v2.0/health", nil, &out)
}

// project is the part of Harbor's Project lab reads.
type project struct {
	ID       int               `json:"project_id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

// wantMetadata is what every lab project has: private, scanned on push.
var wantMetadata = map[string]string{"public": "false", "auto_scan": "true"}

var byName = map[string]string{"X-Is-Resource-Name": "true"}

// project returns the project of that name, nil when there is none.
func (h *harborAPI) project(ctx context.Context, name string) (*project, error) {
	var p project
	err := h.get(ctx, "/api/v2.0/projects/"+url.PathEscape(name), byName, &p)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ensureProject creates the project, or sets the metadata of one that exists to
// wantMetadata; it reports whether it changed anything.
func (h *harborAPI) ensureProject(ctx context.Context, name string) (*project, bool, error) {
	p, err := h.project(ctx, name)
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		_, err := h.send(ctx, request{method: http.MethodPost, path: "/api/v2.0/projects",
			json: map[string]any{"project_name": name, "metadata": wantMetadata}})
		if err != nil && !isStatus(err, http.StatusConflict) { // 409: made meanwhile
			return nil, false, err
		}
		p, err = h.project(ctx, name)
		if err == nil && p == nil {
			err = fmt.Errorf("Harbor project %s: created, but not found", name)
		}
		return p, err == nil, err
	}
	changed := false
	for k, v := range wantMetadata {
		if p.Metadata[k] == v {
			continue
		}
		if _, err := h.send(ctx, request{method: http.MethodPut, header: byName,
			path: "/api/v2.0/projects/" + url.PathEscape(name) + "/metadatas/" + k, json: map[string]string{k: v}}); err != nil {
			return nil, false, err
		}
		changed = true
	}
	return p, changed, nil
}

// robot is the part of Harbor's Robot lab reads; Harbor names project robots
// robot$<project>+<name>.
type robot struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Secret  string `json:"secret,omitempty"`
	Disable bool   `json:"disable"`
}

func robotName(project, name string) string { return "robot$" + project + "+" + name }

// robots lists the project's robots.
func (h *harborAPI) robots(ctx context.Context, projectID int) ([]robot, error) {
	var out []robot
	q := url.Values{"q": {"Level=project,ProjectID=" + strconv.Itoa(projectID)}, "page_size": {"100"}}
	return out, h.get(ctx, "/api/v2.0/robots?"+q.Encode(), nil, &out)
}

// createRobot makes a robot of the project that pushes and pulls, never expiring; Harbor
// answers with its full name and a secret of its own making.
func (h *harborAPI) createRobot(ctx context.Context, project, name string) (*robot, error) {
	body := map[string]any{
		"name": name, "description": "CI pushes and the cluster's pulls (made by lab)", "level": "project", "duration": -1,
		"permissions": []any{map[string]any{"kind": "project", "namespace": project, "access": []any{
			map[string]string{"resource": "repository", "action": "push"},
			map[string]string{"resource": "repository", "action": "pull"},
		}}},
	}
	a, err := h.send(ctx, request{method: http.MethodPost, path: "/api/v2.0/robots", json: body})
	if err != nil {
		return nil, err
	}
	var r robot
	if err := json.Unmarshal(a.body, &r); err != nil {
		return nil, fmt.Errorf("Harbor POST /api/v2.0/robots: unexpected answer: %w", err)
	}
	return &r, nil
}

// setRobotSecret gives the robot the secret lab keeps (PATCH /robots/{id}).
func (h *harborAPI) setRobotSecret(ctx context.Context, id int64, secret string) error {
	_, err := h.send(ctx, request{method: http.MethodPatch, path: "/api/v2.0/robots/" + strconv.FormatInt(id, 10),
		json: map[string]string{"secret": secret}})
	return err
}

// scanner is the part of a ScannerRegistration lab reads.
type scanner struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	Disabled  bool   `json:"disabled"`
	IsDefault bool   `json:"is_default"`
}

func (h *harborAPI) scanners(ctx context.Context) ([]scanner, error) {
	var out []scanner
	return out, h.get(ctx, "/api/v2.0/scanners", nil, &out)
}
