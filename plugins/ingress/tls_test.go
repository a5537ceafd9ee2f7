package ingress

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// publish plays apply's part: the lab's CA and certificate in lab-system/lab-tls, for
// the test alone.
func publish(t *testing.T, c *kube.Client, domain string) (*labca.CA, *labca.Leaf) {
	t.Helper()
	ca, _, err := labca.Ensure(t.TempDir(), "test", domain, time.Now())
	require.NoError(t, err)
	leaf, _, err := ca.Leaf(labca.Hosts(domain), time.Now())
	require.NoError(t, err)
	_, err = labca.Publish(context.Background(), c.Kube, ca, leaf)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Kube.CoreV1().Secrets(labca.SecretNamespace).Delete(context.Background(), labca.SecretName, metav1.DeleteOptions{})
	})
	return ca, leaf
}

// install runs the stack's Install with the REAL upstream chart of the controller and
// removes it when the test ends.
func install(t *testing.T, cfg *Config) *sdk.Request {
	t.Helper()
	repo := testenv.UpstreamRepo(t)
	ctx := context.Background()
	s := New()
	req := &sdk.Request{Cluster: cluster.Conn, Lab: sdk.Lab{Name: "test", Domain: "tls.local"}, Config: cfg,
		Charts: map[string]sdk.ChartOverride{"ingress-nginx": {Repository: repo}, "traefik": {Repository: repo}}}
	_, err := s.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = s.Uninstall(ctx, req) })
	return req
}

func containerArgs(t *testing.T, c *kube.Client, ns, name string) []string {
	t.Helper()
	ds, err := c.Kube.AppsV1().DaemonSets(ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return ds.Spec.Template.Spec.Containers[0].Args
}

func checkOf(t *testing.T, req *sdk.Request, name string) sdk.Check {
	t.Helper()
	h, err := New().Health(context.Background(), req)
	require.NoError(t, err)
	for _, ch := range h.Checks {
		if ch.Name == name {
			return ch
		}
	}
	t.Fatalf("no check %q in %+v", name, h.Checks)
	return sdk.Check{}
}

// NGINX serves the lab's certificate for every host and redirects http to https; a
// renewal published by apply reaches the controller's Secret without a re-install.
func TestNginxDefaultCertificateAndRedirect(t *testing.T) {
	ctx := context.Background()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	ca, leaf := publish(t, c, "tls.local")
	cfg := New().Config().(*Config)
	cfg.Namespace = "ingress-tls-nginx"
	req := install(t, cfg)

	assert.Contains(t, containerArgs(t, c, cfg.Namespace, "ingress-nginx-controller"),
		"--default-ssl-certificate=ingress-tls-nginx/lab-tls")
	cm, err := c.Kube.CoreV1().ConfigMaps(cfg.Namespace).Get(ctx, "ingress-nginx-controller", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "true", cm.Data["force-ssl-redirect"])
	sec, err := c.Kube.CoreV1().Secrets(cfg.Namespace).Get(ctx, "lab-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, leaf.CertPEM, sec.Data["tls.crt"])
	ch := checkOf(t, req, "default certificate")
	assert.Equal(t, sdk.Healthy, ch.Status, ch.Message)

	renewed, issued, err := ca.Leaf(labca.Hosts("tls.local"), leaf.Cert.NotAfter.Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, issued)
	_, err = labca.Publish(ctx, c.Kube, ca, renewed)
	require.NoError(t, err)
	sec, err = c.Kube.CoreV1().Secrets(cfg.Namespace).Get(ctx, "lab-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, renewed.CertPEM, sec.Data["tls.crt"], "the controller's copy follows the renewal")
}

// Traefik gets a default TLSStore with the lab's certificate, TLS on websecure and a
// permanent redirect from web.
func TestTraefikDefaultTLSStoreAndRedirect(t *testing.T) {
	ctx := context.Background()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	publish(t, c, "tls.local")
	cfg := New().Config().(*Config)
	cfg.Controller, cfg.Namespace = "traefik", "ingress-tls-traefik"
	req := install(t, cfg)

	store, err := c.Dynamic.Resource(schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "tlsstores"}).
		Namespace(cfg.Namespace).Get(ctx, "default", metav1.GetOptions{})
	require.NoError(t, err)
	secret, _, _ := unstructured.NestedString(store.Object, "spec", "defaultCertificate", "secretName")
	assert.Equal(t, "lab-tls", secret)
	args := containerArgs(t, c, cfg.Namespace, "traefik")
	assert.Contains(t, args, "--entryPoints.web.http.redirections.entryPoint.to=:443")
	assert.Contains(t, args, "--entryPoints.web.http.redirections.entryPoint.scheme=https")
	assert.Contains(t, args, "--entryPoints.websecure.http.tls=true")
	ch := checkOf(t, req, "default certificate")
	assert.Equal(t, sdk.Healthy, ch.Status, ch.Message)

	// The dashboard answers at traefik.<domain> over https, and the stack says where.
	route, err := c.Dynamic.Resource(schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}).
		Namespace(cfg.Namespace).Get(ctx, "traefik-dashboard", metav1.GetOptions{})
	require.NoError(t, err)
	eps, _, _ := unstructured.NestedStringSlice(route.Object, "spec", "entryPoints")
	assert.Equal(t, []string{"websecure"}, eps)
	routes, _, _ := unstructured.NestedSlice(route.Object, "spec", "routes")
	require.Len(t, routes, 1)
	assert.Equal(t, "Host(`traefik.tls.local`)", routes[0].(map[string]any)["match"])
	h, err := New().Health(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, h.Endpoints, sdk.Endpoint{Name: "traefik", URL: "https://traefik.tls.local/dashboard/"})
}

// The user's own certificate replaces the lab's, and is not a copy apply would overwrite.
func TestUsersOwnCertificate(t *testing.T) {
	ctx := context.Background()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	publish(t, c, "tls.local")
	own, _, err := labca.Ensure(t.TempDir(), "own", "tls.local", time.Now())
	require.NoError(t, err)
	pair, _, err := own.Leaf(labca.Hosts("tls.local"), time.Now())
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "own.crt"), filepath.Join(dir, "own.key")
	require.NoError(t, os.WriteFile(certFile, pair.CertPEM, 0o644))
	require.NoError(t, os.WriteFile(keyFile, pair.KeyPEM, 0o600))

	cfg := New().Config().(*Config)
	cfg.Namespace, cfg.TLSCert, cfg.TLSKey = "ingress-tls-own", certFile, keyFile
	req := install(t, cfg)
	sec, err := c.Kube.CoreV1().Secrets(cfg.Namespace).Get(ctx, "lab-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, pair.CertPEM, sec.Data["tls.crt"])
	assert.NotContains(t, sec.Labels, labca.CopyLabel)
	ch := checkOf(t, req, "default certificate")
	assert.Equal(t, sdk.Healthy, ch.Status, ch.Message)
	assert.Contains(t, ch.Message, certFile)
}

// A certificate without its key, or a key of another certificate, is refused at the
// attribute before anything changes.
func TestOwnCertificateValidated(t *testing.T) {
	dir := t.TempDir()
	a, _, err := labca.Ensure(filepath.Join(dir, "a"), "a", "tls.local", time.Now())
	require.NoError(t, err)
	la, _, err := a.Leaf(labca.Hosts("tls.local"), time.Now())
	require.NoError(t, err)
	b, _, err := labca.Ensure(filepath.Join(dir, "b"), "b", "tls.local", time.Now())
	require.NoError(t, err)
	lb, _, err := b.Leaf(labca.Hosts("tls.local"), time.Now())
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "a.crt"), filepath.Join(dir, "b.key")
	require.NoError(t, os.WriteFile(certFile, la.CertPEM, 0o644))
	require.NoError(t, os.WriteFile(keyFile, lb.KeyPEM, 0o600))

	for name, cfg := range map[string]Config{
		"tls_key":  {TLSCert: certFile},
		"tls_cert": {TLSCert: certFile, TLSKey: keyFile},
	} {
		d := New().Validate(context.Background(), &sdk.Request{Config: &cfg})
		require.Len(t, d, 1, name)
		assert.Equal(t, name, d[0].Attribute, d[0].Detail)
	}
}
