package keycloak

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// double is a test double of Keycloak's admin REST API as Keycloak documents it (Admin
// REST API, 26.x): the master realm's token endpoint for admin-cli with the password
// grant, and under /admin/realms the realm, its clients (looked up by ?clientId=, the id
// Keycloak assigns), its realm roles, partial-export and partialImport. It keeps what it
// is sent and records every write, so a test sees which calls the client made.
type double struct {
	mu       sync.Mutex
	password string
	realms   map[string]map[string]any
	clients  map[string][]map[string]any // realm => clients
	roles    map[string]map[string]map[string]any
	writes   []string
	imported map[string]any
}

func newDouble(t *testing.T, password string) (*double, *httptest.Server) {
	d := &double{password: password, realms: map[string]map[string]any{}, clients: map[string][]map[string]any{},
		roles: map[string]map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(srv.Close)
	return d, srv
}

const token = "token-of-the-double"

func (d *double) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.URL.Path == "/realms/master/protocol/openid-connect/token" {
		_ = r.ParseForm()
		if r.Method != http.MethodPost || r.Form.Get("grant_type") != "password" || r.Form.Get("client_id") != "admin-cli" ||
			r.Form.Get("username") != "admin" || r.Form.Get("password") != d.password {
			http.Error(w, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`, http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 60})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, `{"error":"HTTP 401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/admin/realms"), "/")[1:]
	var body map[string]any
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	if r.Method != http.MethodGet {
		d.writes = append(d.writes, r.Method+" "+r.URL.Path)
	}
	switch {
	case len(parts) == 0 && r.Method == http.MethodPost: // create a realm from a representation
		name := body["realm"].(string)
		if d.realms[name] != nil {
			http.Error(w, `{"errorMessage":"Conflict detected. See logs for details"}`, http.StatusConflict)
			return
		}
		d.realms[name], d.roles[name] = map[string]any{}, map[string]map[string]any{}
		for k, v := range body {
			if k != "clients" && k != "roles" {
				d.realms[name][k] = v
			}
		}
		if cs, ok := body["clients"].([]any); ok {
			for _, c := range cs {
				d.addClient(name, c.(map[string]any))
			}
		}
		if rs, ok := body["roles"].(map[string]any); ok {
			for _, role := range rs["realm"].([]any) {
				m := role.(map[string]any)
				d.roles[name][m["name"].(string)] = m
			}
		}
		w.WriteHeader(http.StatusCreated)
	case d.realms[parts[0]] == nil:
		http.Error(w, `{"error":"Realm not found."}`, http.StatusNotFound)
	case len(parts) == 1 && r.Method == http.MethodGet:
		writeJSON(w, d.realms[parts[0]])
	case len(parts) == 1 && r.Method == http.MethodPut:
		for k, v := range body {
			d.realms[parts[0]][k] = v
		}
		w.WriteHeader(http.StatusNoContent)
	case parts[1] == "clients" && len(parts) == 2 && r.Method == http.MethodGet:
		out := []map[string]any{}
		for _, c := range d.clients[parts[0]] {
			if q := r.URL.Query().Get("clientId"); q == "" || c["clientId"] == q {
				out = append(out, c)
			}
		}
		writeJSON(w, out)
	case parts[1] == "clients" && len(parts) == 2 && r.Method == http.MethodPost:
		d.addClient(parts[0], body)
		w.WriteHeader(http.StatusCreated)
	case parts[1] == "clients" && len(parts) == 3 && r.Method == http.MethodPut:
		for i, c := range d.clients[parts[0]] {
			if c["id"] == parts[2] {
				body["id"] = parts[2]
				d.clients[parts[0]][i] = body
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		http.Error(w, `{"error":"Could not find client"}`, http.StatusNotFound)
	case parts[1] == "roles" && len(parts) == 3 && r.Method == http.MethodGet:
		role := d.roles[parts[0]][parts[2]]
		if role == nil {
			http.Error(w, `{"error":"Could not find role"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, role)
	case parts[1] == "roles" && len(parts) == 2 && r.Method == http.MethodPost:
		d.roles[parts[0]][body["name"].(string)] = body
		w.WriteHeader(http.StatusCreated)
	case parts[1] == "partial-export" && r.Method == http.MethodPost:
		out := map[string]any{}
		for k, v := range d.realms[parts[0]] {
			out[k] = v
		}
		var cs []any
		for _, c := range d.clients[parts[0]] {
			m := map[string]any{}
			for k, v := range c {
				m[k] = v
			}
			if m["secret"] != nil {
				m["secret"] = "**********" // Keycloak masks secrets in an export
			}
			cs = append(cs, m)
		}
		out["clients"] = cs
		writeJSON(w, out)
	case parts[1] == "partialImport" && r.Method == http.MethodPost:
		d.imported = body
		writeJSON(w, map[string]any{"added": 0, "overwritten": 2, "skipped": 0})
	default:
		http.Error(w, `{"error":"RESTEASY003210: Could not find resource"}`, http.StatusNotFound)
	}
}

func (d *double) addClient(realm string, c map[string]any) {
	c["id"] = "id-" + c["clientId"].(string)
	if c["publicClient"] != true && c["secret"] == nil {
		c["secret"] = "generated-by-keycloak"
	}
	d.clients[realm] = append(d.clients[realm], c)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func realm() Realm {
	return Realm{Realm: "nexo", Enabled: true, AccessTokenLifespan: 900, SSOSessionIdleTimeout: 604800, SSOSessionMaxLifespan: 604800,
		Clients: []Client{
			{ClientID: "nexo-fe", Enabled: true, PublicClient: true, StandardFlowEnabled: true,
				RedirectURIs: []string{"http://develop.nexo.local/*"}, WebOrigins: []string{"http://develop.nexo.local"},
				Attributes: map[string]string{"pkce.code.challenge.method": "S256"}},
			{ClientID: "nexo-be", Enabled: true, ClientAuthenticatorType: "client-secret", Secret: "s3cret", ServiceAccountsEnabled: true,
				RedirectURIs: []string{}, WebOrigins: []string{}},
		},
		Roles: &Roles{Realm: []Role{{Name: "admin"}, {Name: "user"}, {Name: "guest"}}},
	}
}

func TestSyncCreatesThenKeepsTheRealmInStep(t *testing.T) {
	ctx := context.Background()
	d, srv := newDouble(t, "pw")
	a := &Admin{BaseURL: srv.URL, HTTP: srv.Client(), Username: "admin", Password: "pw"}

	changed, err := a.Sync(ctx, realm())
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, []string{"POST /admin/realms"}, d.writes, "a missing realm is created whole")
	assert.Equal(t, "s3cret", d.clients["nexo"][1]["secret"])
	assert.Len(t, d.roles["nexo"], 3)

	d.writes = nil
	changed, err = a.Sync(ctx, realm())
	require.NoError(t, err)
	assert.False(t, changed, "nothing to do the second time")
	assert.Empty(t, d.writes)

	// A new environment adds redirect URIs; a role deleted by hand comes back.
	want := realm()
	want.Clients[0].RedirectURIs = append(want.Clients[0].RedirectURIs, "http://qa.nexo.local/*")
	want.AccessTokenLifespan = 600
	delete(d.roles["nexo"], "guest")
	changed, err = a.Sync(ctx, want)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, []string{"PUT /admin/realms/nexo", "PUT /admin/realms/nexo/clients/id-nexo-fe", "POST /admin/realms/nexo/roles"}, d.writes)
	assert.Equal(t, []any{"http://develop.nexo.local/*", "http://qa.nexo.local/*"}, d.clients["nexo"][0]["redirectUris"])
	assert.EqualValues(t, 600, d.realms["nexo"]["accessTokenLifespan"])
}

func TestWrongAdminPasswordIsReported(t *testing.T) {
	_, srv := newDouble(t, "pw")
	a := &Admin{BaseURL: srv.URL, HTTP: srv.Client(), Username: "admin", Password: "wrong"}
	_, err := a.Sync(context.Background(), realm())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keycloak admin login")
	assert.Contains(t, err.Error(), "401")
}

func TestExportAndImportKeepClientSecrets(t *testing.T) {
	ctx := context.Background()
	d, srv := newDouble(t, "pw")
	a := &Admin{BaseURL: srv.URL, HTTP: srv.Client(), Username: "admin", Password: "pw"}
	_, err := a.Sync(ctx, realm())
	require.NoError(t, err)
	export, err := a.Export(ctx, "nexo")
	require.NoError(t, err)
	assert.Contains(t, string(export), `"clientId":"nexo-be"`)

	require.NoError(t, a.Import(ctx, "nexo", export))
	assert.Equal(t, "OVERWRITE", d.imported["ifResourceExists"])
	for _, c := range d.imported["clients"].([]any) {
		assert.NotContains(t, c.(map[string]any), "secret", "a masked secret would overwrite the real one")
	}
	_, err = a.Export(ctx, "missing")
	assert.ErrorContains(t, err, "404")
}
