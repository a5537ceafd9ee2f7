package nexoapps

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nexolab/lab/plugins/nexo-apps/keycloak"
)

// adminClient reaches Keycloak's admin API through the API server's service proxy, so
// nothing of the cluster needs to be reachable from the host.
func adminClient(_ context.Context, s *session, sec *secrets) (*keycloak.Admin, error) {
	hc, err := rest.HTTPClientFor(s.Kube.Config)
	if err != nil {
		return nil, err
	}
	hc.Timeout = 2 * time.Minute
	base := fmt.Sprintf("%s/api/v1/namespaces/%s/services/http:nexo-auth:8080/proxy", s.Kube.Config.Host, dataNamespace)
	return &keycloak.Admin{BaseURL: base, HTTP: hc, Username: sec.Admin.Username, Password: sec.Admin.Password}, nil
}

// syncRealm keeps the nexo realm in step with the config: Keycloak imports it once at
// its first start; later changes (an environment's redirect URIs) go through the API.
func syncRealm(ctx context.Context, s *session, sec *secrets) (bool, error) {
	admin, err := adminClient(ctx, s, sec)
	if err != nil {
		return false, err
	}
	want := realmOf(environments(s.Config), s.Req.Lab.Domain, sec.ClientNexoBE, s.Config.ThemesDir != "")
	changed, err := admin.Sync(ctx, want)
	if err != nil {
		return false, fmt.Errorf("realm %s: %w", realmName, err)
	}
	if changed {
		s.Req.Emit("realm", "realm %s brought in step through Keycloak's admin API", realmName)
	}
	return changed, nil
}
