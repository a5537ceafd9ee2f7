package nexoapps

import (
	"encoding/json"

	"github.com/nexolab/lab/plugins/nexo-apps/keycloak"
)

// Lifetimes of the realm's tokens and sessions, in seconds.
const (
	accessToken = 15 * 60
	sessionLife = 7 * 24 * 3600
)

// realmOf is the nexo realm: nexo-fe a public client with PKCE at every environment's
// host, nexo-be a confidential one with the generated secret, three realm roles.
func realmOf(envs []env, domain, beSecret string, themed bool) keycloak.Realm {
	var redirects, origins, apiRedirects []string
	for _, e := range envs {
		redirects = append(redirects, "http://"+e.FEHost(domain)+"/*")
		origins = append(origins, "http://"+e.FEHost(domain))
		apiRedirects = append(apiRedirects, "http://"+e.APIHost(domain)+"/*")
	}
	r := keycloak.Realm{
		Realm: realmName, Enabled: true,
		AccessTokenLifespan: accessToken, SSOSessionIdleTimeout: sessionLife, SSOSessionMaxLifespan: sessionLife,
		Clients: []keycloak.Client{
			{ClientID: "nexo-fe", Enabled: true, PublicClient: true, StandardFlowEnabled: true,
				RedirectURIs: redirects, WebOrigins: origins,
				Attributes: map[string]string{"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"}},
			{ClientID: "nexo-be", Enabled: true, ClientAuthenticatorType: "client-secret", Secret: beSecret,
				StandardFlowEnabled: false, ServiceAccountsEnabled: true,
				RedirectURIs: apiRedirects, WebOrigins: []string{}},
		},
		Roles: &keycloak.Roles{Realm: []keycloak.Role{
			{Name: "admin", Description: "Nexo administrators"},
			{Name: "user", Description: "Nexo users"},
			{Name: "guest", Description: "read-only visitors"},
		}},
	}
	if themed {
		r.LoginTheme = "nexo"
	}
	return r
}

func realmJSON(r keycloak.Realm) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}
