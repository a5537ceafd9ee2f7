package labca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 1, &cluster) }

var now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func verify(t *testing.T, ca *CA, leaf *x509.Certificate, host string, at time.Time) error {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: at})
	return err
}

// The CA is made once, its key readable by the user alone, and the leaf covers every kind
// of host the lab serves.
func TestCAOnceAndLeafForEveryLabHost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, replaced, err := Ensure(dir, "nexo", "nexo.local", now)
	require.NoError(t, err)
	assert.Empty(t, replaced)
	st, err := os.Stat(filepath.Join(dir, "ca.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	again, _, err := Ensure(dir, "nexo", "nexo.local", now.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, ca.PEM, again.PEM, "the second apply reuses the CA")

	leaf, issued, err := ca.Leaf(Hosts("nexo.local", "argocd.nexo.local", "a.b.c.nexo.local"), now)
	require.NoError(t, err)
	assert.True(t, issued)
	st, err = os.Stat(filepath.Join(dir, "tls.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	for _, h := range []string{"nexo.local", "grafana.nexo.local", "develop.api.nexo.local", "qa.auth.nexo.local", "a.b.c.nexo.local"} {
		assert.NoError(t, verify(t, ca, leaf.Cert, h, now), h)
	}
	assert.Error(t, verify(t, ca, leaf.Cert, "x.y.nexo.local", now), "no wildcard covers two labels")
	_, err = tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	assert.NoError(t, err)
}

// Name constraints: even a certificate the CA signs for another domain is refused, so
// trusting the lab CA puts no other site at risk.
func TestNameConstraintsLimitTheCAToTheLabDomain(t *testing.T) {
	ca, _, err := Ensure(t.TempDir(), "nexo", "nexo.local", now)
	require.NoError(t, err)
	for _, host := range []string{"example.com", "nexo.local.evil.com"} {
		bad, err := ca.issue([]string{host}, now)
		require.NoError(t, err)
		err = verify(t, ca, bad.Cert, host, now)
		require.Error(t, err, host)
		assert.Contains(t, err.Error(), "constraint")
	}
	assert.True(t, ca.Cert.PermittedDNSDomainsCritical)
	assert.Equal(t, []string{"nexo.local"}, ca.Cert.PermittedDNSDomains)
}

// The leaf stays until RenewBefore is left, then apply gets a new one; a new host or
// another CA's certificate also makes a new one.
func TestLeafRenewedWellBeforeExpiry(t *testing.T) {
	dir := t.TempDir()
	ca, _, err := Ensure(dir, "nexo", "nexo.local", now)
	require.NoError(t, err)
	hosts := Hosts("nexo.local")
	first, _, err := ca.Leaf(hosts, now)
	require.NoError(t, err)

	keep := first.Cert.NotAfter.Add(-RenewBefore - time.Hour)
	same, issued, err := ca.Leaf(hosts, keep)
	require.NoError(t, err)
	assert.False(t, issued)
	assert.Equal(t, first.CertPEM, same.CertPEM)

	renewAt := first.Cert.NotAfter.Add(-RenewBefore + time.Hour)
	renewed, issued, err := ca.Leaf(hosts, renewAt)
	require.NoError(t, err)
	assert.True(t, issued, "renewed with less than %s left", RenewBefore)
	assert.True(t, renewed.Cert.NotAfter.After(first.Cert.NotAfter))
	assert.NoError(t, verify(t, ca, renewed.Cert, "argocd.nexo.local", renewAt))

	_, issued, err = ca.Leaf(append(hosts, "x.y.nexo.local"), renewAt)
	require.NoError(t, err)
	assert.True(t, issued, "a host the certificate lacks")

	other, _, err := Ensure(t.TempDir(), "nexo", "nexo.local", now)
	require.NoError(t, err)
	assert.False(t, other.Fresh(renewed.Cert, hosts, renewAt), "signed by another CA")
}

// A CA that cannot serve the lab any more is replaced, and the caller learns why.
func TestCAReplacedForAnotherDomainOrABrokenPair(t *testing.T) {
	dir := t.TempDir()
	first, _, err := Ensure(dir, "nexo", "nexo.local", now)
	require.NoError(t, err)
	second, replaced, err := Ensure(dir, "nexo", "other.local", now)
	require.NoError(t, err)
	assert.Contains(t, replaced, `limited to "nexo.local"`)
	assert.Equal(t, []string{"other.local"}, second.Cert.PermittedDNSDomains)
	assert.NotEqual(t, first.PEM, second.PEM)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.crt"), first.PEM, 0o644))
	third, replaced, err := Ensure(dir, "nexo", "other.local", now)
	require.NoError(t, err)
	assert.Contains(t, replaced, "does not belong")
	_, _, err = third.Leaf(Hosts("other.local"), now)
	assert.NoError(t, err)
}

// Publish writes lab-system/lab-tls; a stack's copy follows a renewal without the stack
// running again.
func TestPublishRefreshesCopies(t *testing.T) {
	ctx := context.Background()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	ca, _, err := Ensure(t.TempDir(), "nexo", "nexo.local", now)
	require.NoError(t, err)
	leaf, _, err := ca.Leaf(Hosts("nexo.local"), now)
	require.NoError(t, err)

	n, err := Publish(ctx, c.Kube, ca, leaf)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = Publish(ctx, c.Kube, ca, leaf)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "nothing changes when nothing was renewed")

	require.NoError(t, c.EnsureNamespace(ctx, "copyns", nil))
	found, err := Copy(ctx, c.Kube, "copyns", "lab-tls", map[string]string{kube.StackLabel: "ingress"})
	require.NoError(t, err)
	assert.True(t, found)

	renewed, issued, err := ca.Leaf(Hosts("nexo.local"), leaf.Cert.NotAfter.Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, issued)
	n, err = Publish(ctx, c.Kube, ca, renewed)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the Secret and its copy")
	cp, err := c.Kube.CoreV1().Secrets("copyns").Get(ctx, "lab-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, renewed.CertPEM, cp.Data["tls.crt"])
	assert.Equal(t, ca.PEM, cp.Data["ca.crt"])
	assert.Equal(t, "ingress", cp.Labels[kube.StackLabel])
}
