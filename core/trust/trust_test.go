package trust

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/labca"
)

// needStore skips unless the test may change this machine's real trust store.
func needStore(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("changes the system trust store: needs root")
	}
	for _, tool := range []string{"update-ca-certificates", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (Debian: apt-get install ca-certificates libnss3-tools)", tool)
		}
	}
}

// newNSS makes an empty NSS database as a browser's first start does.
func newNSS(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, run(context.Background(), "certutil", "-N", "--empty-password", "-d", "sql:"+dir))
	return "sql:" + dir
}

func labCert(t *testing.T, lab, domain string) (*labca.CA, tls.Certificate) {
	t.Helper()
	ca, _, err := labca.Ensure(t.TempDir(), lab, domain, time.Now())
	require.NoError(t, err)
	leaf, _, err := ca.Leaf(labca.Hosts(domain), time.Now())
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	require.NoError(t, err)
	return ca, pair
}

// lab trust for real on this machine: the system store (Debian's update-ca-certificates)
// and a Chromium and a Firefox NSS database; then remove gives back the exact bundle.
func TestInstallVerifyRemoveForReal(t *testing.T) {
	needStore(t)
	ctx := context.Background()
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	o := Options{Lab: "trusttest-" + hex.EncodeToString(id), Home: t.TempDir()}
	chromium := newNSS(t, filepath.Join(o.Home, ".pki", "nssdb"))
	firefox := newNSS(t, filepath.Join(o.Home, ".mozilla", "firefox", "abcd.default-release"))
	ca, leaf := labCert(t, o.Lab, "trust.local")
	bundle := "/etc/ssl/certs/ca-certificates.crt"
	before, err := os.ReadFile(bundle)
	require.NoError(t, err)

	require.Error(t, Verify(ctx, leaf, "grafana.trust.local"), "not trusted before lab trust")
	t.Cleanup(func() { // whatever happens below, the machine's store is given back
		_, err := Remove(context.Background(), o)
		assert.NoError(t, err)
		after, err := os.ReadFile(bundle)
		assert.NoError(t, err)
		assert.Equal(t, before, after, "remove gives back the exact system bundle")
	})

	steps, err := Install(ctx, o, ca.PEM)
	require.NoError(t, err)
	require.Len(t, steps, 3, "%+v", steps)
	assert.Equal(t, "added /usr/local/share/ca-certificates/lab-"+o.Lab+".crt", steps[0].Action)
	require.NoError(t, Verify(ctx, leaf, "grafana.trust.local"), "the system pool trusts the lab certificate")
	require.NoError(t, Verify(ctx, leaf, "develop.api.trust.local"))
	st, err := Check(ctx, o, ca.PEM)
	require.NoError(t, err)
	assert.True(t, st.System)
	assert.ElementsMatch(t, []string{chromium, firefox}, st.NSS)

	again, err := Install(ctx, o, ca.PEM)
	require.NoError(t, err)
	assert.Contains(t, again[0].Action, "already trusted")

	removed, err := Remove(ctx, o)
	require.NoError(t, err)
	assert.Len(t, removed, 3, "%+v", removed)
	err = Verify(ctx, leaf, "grafana.trust.local")
	require.Error(t, err, "no longer trusted after remove")
	assert.Contains(t, err.Error(), "unknown authority")
	st, err = Check(ctx, o, ca.PEM)
	require.NoError(t, err)
	assert.False(t, st.System)
	assert.Empty(t, st.NSS)
	assert.ElementsMatch(t, []string{chromium, firefox}, st.Missing)
}

// A second lab CA of the same lab (the domain changed) replaces the first in NSS rather
// than piling up under one nickname.
func TestReinstallReplacesTheLabsOlderCA(t *testing.T) {
	needStore(t)
	ctx := context.Background()
	o := Options{Lab: "trusttest-replace", Home: t.TempDir()}
	db := newNSS(t, filepath.Join(o.Home, ".pki", "nssdb"))
	first, _ := labCert(t, o.Lab, "one.local")
	second, leaf := labCert(t, o.Lab, "two.local")
	t.Cleanup(func() { _, _ = Remove(context.Background(), o) })
	_, err := Install(ctx, o, first.PEM)
	require.NoError(t, err)
	_, err = Install(ctx, o, second.PEM)
	require.NoError(t, err)
	require.NoError(t, Verify(ctx, leaf, "x.two.local"))
	out, err := exec.Command("certutil", "-L", "-d", db, "-n", o.nickname(), "-a").Output()
	require.NoError(t, err)
	assert.Equal(t, 1, countPEM(out), "one certificate under the lab's nickname")
}

func countPEM(b []byte) int {
	n := 0
	for i := 0; i+len("BEGIN CERTIFICATE") <= len(b); i++ {
		if string(b[i:i+len("BEGIN CERTIFICATE")]) == "BEGIN CERTIFICATE" {
			n++
		}
	}
	return n
}

// The handshake is the verification: a pool without the CA refuses, one with it accepts,
// and a host outside the lab's certificate is refused either way.
func TestHandshake(t *testing.T) {
	ca, leaf := labCert(t, "hs", "hs.local")
	ctx := context.Background()
	pool, err := SystemRoots()
	require.NoError(t, err)
	assert.Error(t, Handshake(ctx, leaf, "a.hs.local", pool))
	pool.AddCert(ca.Cert)
	assert.NoError(t, Handshake(ctx, leaf, "a.hs.local", pool))
	assert.Error(t, Handshake(ctx, leaf, "example.com", pool))
}
