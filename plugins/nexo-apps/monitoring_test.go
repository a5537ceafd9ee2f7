package nexoapps

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/testenv"
	"github.com/nexolab/lab/plugins/nexo-apps/keycloak"
)

// With the Prometheus operator's CRD (from the real kube-prometheus-stack chart) served,
// nexo-be gets a ServiceMonitor of /metrics on its metrics port, which the monitoring stack
// selects from every namespace; the realm import holds every environment's redirect URIs
// and nexo-be's generated client secret, in a Secret.
func TestServiceMonitorAndRealmImport(t *testing.T) {
	ctx := context.Background()
	c := connect(t)
	ch, err := loader.LoadFile(filepath.Join(testenv.UpstreamCharts(t), "kube-prometheus-stack-88.5.3.tgz"))
	require.NoError(t, err)
	applied := false
	for _, crd := range ch.CRDObjects() {
		if strings.Contains(crd.Name, "servicemonitors") {
			_, err := c.ApplyYAML(ctx, "", string(crd.File.Data))
			require.NoError(t, err)
			applied = true
		}
	}
	require.True(t, applied)
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	t.Cleanup(func() { _, _ = c.Delete(context.Background(), crds, "", "servicemonitors.monitoring.coreos.com") })

	st := New()
	cfg := defaults()
	cfg.Delivery = "helm"
	cfg.Environments = []string{"develop", "qa"}
	req := request(t, cfg)
	_, err = st.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() {
		req.PurgeData = true
		_, _ = st.Uninstall(context.Background(), req)
	})

	sm, err := c.Dynamic.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace("nexo-qa").Get(ctx, "nexo-be", metav1.GetOptions{})
	require.NoError(t, err)
	ep := sm.Object["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)
	assert.Equal(t, "metrics", ep["port"])
	assert.Equal(t, "/metrics", ep["path"])

	sec, err := c.Kube.CoreV1().Secrets(dataNamespace).Get(ctx, realmSecret, metav1.GetOptions{})
	require.NoError(t, err)
	var realm keycloak.Realm
	require.NoError(t, json.Unmarshal(sec.Data["nexo-realm.json"], &realm))
	clients, err := c.Kube.CoreV1().Secrets(dataNamespace).Get(ctx, clientsSecret, metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, realm.Clients, 2)
	fe, be := realm.Clients[0], realm.Clients[1]
	assert.True(t, fe.PublicClient)
	assert.Equal(t, "S256", fe.Attributes["pkce.code.challenge.method"])
	assert.Equal(t, []string{"http://develop.nexo.test/*", "http://qa.nexo.test/*"}, fe.RedirectURIs)
	assert.False(t, be.PublicClient)
	assert.Equal(t, string(clients.Data["nexo-be"]), be.Secret, "the client secret nexo-be is given")
	assert.Equal(t, 900, realm.AccessTokenLifespan)
	assert.Equal(t, 7*24*3600, realm.SSOSessionMaxLifespan)
	var roles []string
	for _, r := range realm.Roles.Realm {
		roles = append(roles, r.Name)
	}
	assert.Equal(t, []string{"admin", "user", "guest"}, roles)
	beEnv, err := c.Kube.CoreV1().Secrets("nexo-qa").Get(ctx, beSecret, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, clients.Data["nexo-be"], beEnv.Data["KEYCLOAK_CLIENT_SECRET"])
}
