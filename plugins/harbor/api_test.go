package harbor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// The client against the test double over plain HTTP: session login with the CSRF
// token, projects, robots, health and scanners, and Harbor's errors.
func TestClientAgainstTestDouble(t *testing.T) {
	ctx := t.Context()
	d := newHarborDouble("s3cret-Admin-9")
	srv := httptest.NewServer(d.handler())
	t.Cleanup(srv.Close)

	anon := newHarborAPI(srv.URL, nil, "admin", "s3cret-Admin-9")
	hl, err := anon.health(ctx)
	require.NoError(t, err, "health needs no login")
	assert.Equal(t, "healthy", hl.Status)
	assert.Len(t, hl.Components, 8)
	_, err = anon.project(ctx, "nexo")
	assert.True(t, isStatus(err, http.StatusUnauthorized), "an API call without a session is 401: %v", err)
	assert.Contains(t, err.Error(), "UNAUTHORIZED")

	wrong := newHarborAPI(srv.URL, nil, "admin", "Harbor12345")
	assert.ErrorIs(t, wrong.login(ctx), errRefused)

	api := newHarborAPI(srv.URL, nil, "admin", "s3cret-Admin-9")
	require.NoError(t, api.login(ctx), "the login gets its CSRF token from the first refusal")
	p, changed, err := api.ensureProject(ctx, "nexo")
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, wantMetadata, p.Metadata)
	_, changed, err = api.ensureProject(ctx, "nexo")
	require.NoError(t, err)
	assert.False(t, changed, "a project that is as wanted is left alone")

	_, err = api.send(ctx, request{method: http.MethodPost, path: "/api/v2.0/projects", json: map[string]any{"project_name": "nexo"}})
	assert.True(t, isStatus(err, http.StatusConflict), "creating an existing project is 409: %v", err)

	d.projects["nexo"].Metadata["auto_scan"] = "false" // someone turned scanning off
	_, changed, err = api.ensureProject(ctx, "nexo")
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, "true", d.projects["nexo"].Metadata["auto_scan"])

	rb, err := api.createRobot(ctx, "nexo", "ci")
	require.NoError(t, err)
	assert.Equal(t, "robot$nexo+ci", rb.Name)
	assert.NotEmpty(t, rb.Secret, "Harbor answers a new robot with its secret")
	list, err := api.robots(ctx, p.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, rb.ID, list[0].ID)
	assert.Empty(t, list[0].Secret, "a listed robot has no secret")
	_, err = api.createRobot(ctx, "nexo", "ci")
	assert.True(t, isStatus(err, http.StatusConflict), "%v", err)

	assert.True(t, isStatus(api.setRobotSecret(ctx, rb.ID, "alllowercase1"), http.StatusBadRequest), "Harbor refuses a weak robot secret")
	sec, err := robotSecret()
	require.NoError(t, err)
	require.NoError(t, api.setRobotSecret(ctx, rb.ID, string(sec)))
	assert.Equal(t, string(sec), d.robots[rb.ID].secret)

	sc, err := api.scanners(ctx)
	require.NoError(t, err)
	require.Len(t, sc, 1)
	assert.True(t, sc[0].IsDefault)
}

// Every robot secret lab makes is one Harbor accepts.
func TestRobotSecretsAreValidForHarbor(t *testing.T) {
	for range 200 {
		b, err := robotSecret()
		require.NoError(t, err)
		s := string(b)
		assert.Regexp(t, `[A-Z]`, s)
		assert.Regexp(t, `[a-z]`, s)
		assert.Regexp(t, `[0-9]`, s)
		assert.Len(t, s, 32)
	}
}

// The stack's own steps against the test double, reached as harbor-core through the
// real API server's service proxy: the admin logs in with a session (no Authorization
// header gets through the API server), the project and robot are made, the robot gets
// the password lab keeps, the pull secrets land in the namespaces that exist, and the
// health checks that need a running Harbor pass. A second run changes nothing.
func TestStackStepsAgainstTestDoubleThroughAPIServer(t *testing.T) {
	ctx := t.Context()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	ns := "harbor-double"
	require.NoError(t, c.EnsureNamespace(ctx, ns, nil))
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), ns) })
	app := "double-apps"
	require.NoError(t, c.EnsureNamespace(ctx, app, nil))
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), app) })

	require.Eventually(t, func() bool {
		_, err := c.Kube.CoreV1().ServiceAccounts(app).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "the controller-manager makes the default ServiceAccount")

	cfg := defaults()
	cfg.Namespace = ns
	cfg.PullNamespaces = []string{app, "double-absent"}
	conn := cluster.Conn
	conn.Simulated = false // Harbor (the double) answers here
	req := &sdk.Request{Stack: "harbor-double", Cluster: conn, Lab: sdk.Lab{Domain: "test.local"}, Config: cfg}
	s := &session{Req: req, Config: cfg, Kube: c, Values: map[string]any{}}
	admin, err := s.Credential(ctx, "harbor", ns, adminSecret, "https://harbor.test.local", adminUser)
	require.NoError(t, err)

	d := newHarborDouble(admin.Password)
	testenv.ServeOutside(t, c, ns, releaseName+"-core", "http-web", d.handler())

	changed, err := after(ctx, s)
	require.NoError(t, err)
	assert.True(t, changed)
	p := d.projects["nexo"]
	require.NotNil(t, p, "project nexo made in Harbor")
	assert.Equal(t, wantMetadata, p.Metadata)
	require.Len(t, d.robots, 1)
	var rb *doubleRobot
	for _, r := range d.robots {
		rb = r
	}
	assert.Equal(t, "robot$nexo+ci", rb.Name)
	login, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, robotSecretName("nexo"), metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, rb.secret, string(login.Data[kube.PasswordKey]), "Harbor's robot has the password lab keeps")
	assert.Equal(t, "robot$nexo+ci", string(login.Data[kube.UsernameKey]))

	pull, err := c.Kube.CoreV1().Secrets(app).Get(ctx, pullSecretName("nexo"), metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.SecretTypeDockerConfigJson, pull.Type)
	assert.JSONEq(t, mustDockerConfig(t, "harbor.test.local", "robot$nexo+ci", rb.secret), string(pull.Data[corev1.DockerConfigJsonKey]))

	again, err := after(ctx, s)
	require.NoError(t, err)
	assert.False(t, again, "a second run with Harbor as wanted changes nothing")
	assert.Len(t, d.robots, 1)

	h := &sdk.Health{}
	s.DryRun = true
	checks(ctx, s, h)
	got := map[string]sdk.Status{}
	for _, ch := range h.Checks {
		got[ch.Name] = ch.Status
		t.Logf("%s: %s: %s", ch.Name, ch.Status, ch.Message)
	}
	for _, name := range []string{"robot logins", "pull secrets", "harbor core", "harbor database", "harbor trivy", "trivy scanner", "projects"} {
		assert.Equal(t, sdk.Healthy, got[name], name)
	}
	d.mu.Lock()
	delete(d.robots, rb.ID)
	d.health = "unhealthy"
	d.mu.Unlock()
	h = &sdk.Health{}
	checks(ctx, s, h)
	got = map[string]sdk.Status{}
	for _, ch := range h.Checks {
		got[ch.Name] = ch.Status
	}
	assert.Equal(t, sdk.Unhealthy, got["projects"], "a missing robot is reported")
	assert.Equal(t, sdk.Unhealthy, got["harbor registry"], "a component Harbor reports down is reported")

	assert.Positive(t, d.requests)
	assert.Zero(t, d.authHeaders, "no Authorization header reaches Harbor through the API server")
}

func mustDockerConfig(t *testing.T, host, user, password string) string {
	b, err := dockerConfig(host, user, password)
	require.NoError(t, err)
	return string(b)
}
