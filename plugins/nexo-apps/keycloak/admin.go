package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/nexolab/lab/core/kube"
)

// Admin talks to Keycloak's admin REST API (/admin/realms/...) as the admin user of the
// master realm, with a token from its admin-cli client (the password grant, as
// Keycloak's own admin CLI does).
type Admin struct {
	// BaseURL is Keycloak's root: http://host:8080, or a path through a proxy.
	BaseURL  string
	HTTP     *http.Client
	Username string
	Password string
	api      *kube.API // once logged in, with the token in its Authorization header
}

func isNotFound(err error) bool { return kube.IsStatus(err, http.StatusNotFound) }

func (a *Admin) login(ctx context.Context) error {
	api := &kube.API{Base: strings.TrimSuffix(a.BaseURL, "/"), HTTP: a.HTTP, Header: http.Header{}}
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {a.Username}, "password": {a.Password}}
	b, err := api.Send(ctx, http.MethodPost, "/realms/master/protocol/openid-connect/token",
		"application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("keycloak admin login: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		return fmt.Errorf("keycloak admin login: %w", err)
	}
	if tok.AccessToken == "" {
		return errors.New("keycloak admin login: no access token in the answer")
	}
	api.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	a.api = api
	return nil
}

// session is the API with the admin token, logging in first when needed.
func (a *Admin) session(ctx context.Context) (*kube.API, error) {
	if a.api == nil {
		if err := a.login(ctx); err != nil {
			return nil, err
		}
	}
	return a.api, nil
}

// do sends a JSON request with the admin token.
func (a *Admin) do(ctx context.Context, method, path string, body, out any) error {
	api, err := a.session(ctx)
	if err != nil {
		return err
	}
	if err := api.Do(ctx, method, path, body, out); err != nil {
		return fmt.Errorf("keycloak: %w", err)
	}
	return nil
}

// Sync makes the realm what want says: it creates the realm whole when missing, else
// updates its settings, each client and each realm role that differ. It reports
// whether it changed anything.
func (a *Admin) Sync(ctx context.Context, want Realm) (bool, error) {
	base := "/admin/realms/" + url.PathEscape(want.Realm)
	var cur Realm
	err := a.do(ctx, http.MethodGet, base, nil, &cur)
	if isNotFound(err) {
		return true, a.do(ctx, http.MethodPost, "/admin/realms", want, nil)
	}
	if err != nil {
		return false, err
	}
	changed := false
	settings := want
	settings.Clients, settings.Roles = nil, nil
	cur.Clients, cur.Roles = nil, nil
	if !reflect.DeepEqual(cur, settings) {
		if err := a.do(ctx, http.MethodPut, base, settings, nil); err != nil {
			return false, err
		}
		changed = true
	}
	for _, c := range want.Clients {
		ch, err := a.syncClient(ctx, base, c)
		if err != nil {
			return changed, err
		}
		changed = changed || ch
	}
	if want.Roles != nil {
		for _, r := range want.Roles.Realm {
			ch, err := a.syncRole(ctx, base, r)
			if err != nil {
				return changed, err
			}
			changed = changed || ch
		}
	}
	return changed, nil
}

func (a *Admin) syncClient(ctx context.Context, base string, want Client) (bool, error) {
	var found []Client
	if err := a.do(ctx, http.MethodGet, base+"/clients?clientId="+url.QueryEscape(want.ClientID), nil, &found); err != nil {
		return false, err
	}
	if len(found) == 0 {
		return true, a.do(ctx, http.MethodPost, base+"/clients", want, nil)
	}
	cur := found[0]
	want.ID = cur.ID
	if clientEqual(cur, want) {
		return false, nil
	}
	return true, a.do(ctx, http.MethodPut, base+"/clients/"+url.PathEscape(cur.ID), want, nil)
}

// clientEqual compares what lab manages; Keycloak adds attributes of its own.
func clientEqual(cur, want Client) bool {
	for k, v := range want.Attributes {
		if cur.Attributes[k] != v {
			return false
		}
	}
	cur.Attributes, want.Attributes = nil, nil
	if want.PublicClient {
		cur.Secret = "" // Keycloak keeps a secret for public clients too
	}
	if cur.ClientAuthenticatorType == "" || want.ClientAuthenticatorType == "" {
		cur.ClientAuthenticatorType, want.ClientAuthenticatorType = "", ""
	}
	return reflect.DeepEqual(normalize(cur), normalize(want))
}

func normalize(c Client) Client {
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	if c.WebOrigins == nil {
		c.WebOrigins = []string{}
	}
	return c
}

func (a *Admin) syncRole(ctx context.Context, base string, want Role) (bool, error) {
	var cur Role
	err := a.do(ctx, http.MethodGet, base+"/roles/"+url.PathEscape(want.Name), nil, &cur)
	if isNotFound(err) {
		return true, a.do(ctx, http.MethodPost, base+"/roles", want, nil)
	}
	if err != nil || cur.Description == want.Description {
		return false, err
	}
	return true, a.do(ctx, http.MethodPut, base+"/roles/"+url.PathEscape(want.Name), want, nil)
}

// Export returns the realm as Keycloak's partial export writes it: settings, clients,
// groups and roles (secrets masked by Keycloak).
func (a *Admin) Export(ctx context.Context, realm string) ([]byte, error) {
	api, err := a.session(ctx)
	if err != nil {
		return nil, err
	}
	path := "/admin/realms/" + url.PathEscape(realm) + "/partial-export?exportClients=true&exportGroupsAndRoles=true"
	out, err := api.Send(ctx, http.MethodPost, path, "", nil)
	if err != nil {
		return nil, fmt.Errorf("keycloak: %w", err)
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("keycloak export of %s is not JSON", realm)
	}
	return out, nil
}

// masked is how Keycloak's export writes a secret.
const masked = "**********"

// Import brings an export back with Keycloak's partial import, overwriting what
// exists; masked client secrets are left out, so the clients keep their secrets.
func (a *Admin) Import(ctx context.Context, realm string, export []byte) error {
	var doc map[string]any
	if err := json.Unmarshal(export, &doc); err != nil {
		return fmt.Errorf("realm export: %w", err)
	}
	body := map[string]any{"ifResourceExists": "OVERWRITE"}
	for _, k := range []string{"clients", "groups", "roles", "users", "identityProviders"} {
		if v, ok := doc[k]; ok {
			body[k] = v
		}
	}
	if clients, ok := body["clients"].([]any); ok {
		for _, c := range clients {
			if m, ok := c.(map[string]any); ok && m["secret"] == masked {
				delete(m, "secret")
			}
		}
	}
	return a.do(ctx, http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/partialImport", body, nil)
}
