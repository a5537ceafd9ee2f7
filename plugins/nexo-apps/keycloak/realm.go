// Package keycloak holds the nexo realm as Keycloak's representations and a client of
// Keycloak's admin REST API that keeps a realm in step with them.
package keycloak

// Realm is the part of Keycloak's RealmRepresentation lab manages. The same value is the
// import file (realm, clients and roles in one document) and, field by field, what the
// admin API is sent.
type Realm struct {
	Realm                 string   `json:"realm"`
	Enabled               bool     `json:"enabled"`
	LoginTheme            string   `json:"loginTheme,omitempty"`
	AccessTokenLifespan   int      `json:"accessTokenLifespan"`
	SSOSessionIdleTimeout int      `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan int      `json:"ssoSessionMaxLifespan"`
	Clients               []Client `json:"clients,omitempty"`
	Roles                 *Roles   `json:"roles,omitempty"`
}

// Roles is RolesRepresentation; lab uses realm roles only.
type Roles struct {
	Realm []Role `json:"realm"`
}

// Role is RoleRepresentation.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Client is the part of ClientRepresentation lab manages.
type Client struct {
	ID                        string            `json:"id,omitempty"`
	ClientID                  string            `json:"clientId"`
	Enabled                   bool              `json:"enabled"`
	PublicClient              bool              `json:"publicClient"`
	Secret                    string            `json:"secret,omitempty"`
	ClientAuthenticatorType   string            `json:"clientAuthenticatorType,omitempty"`
	StandardFlowEnabled       bool              `json:"standardFlowEnabled"`
	DirectAccessGrantsEnabled bool              `json:"directAccessGrantsEnabled"`
	ServiceAccountsEnabled    bool              `json:"serviceAccountsEnabled"`
	RedirectURIs              []string          `json:"redirectUris"`
	WebOrigins                []string          `json:"webOrigins"`
	Attributes                map[string]string `json:"attributes,omitempty"`
}
