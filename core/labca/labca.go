// Package labca is the lab's own certificate authority: made once per lab in
// ~/.lab/<lab>/ca/, limited by name constraints to the lab's domain, and the certificate
// it signs for every host the lab serves, renewed well before it expires.
package labca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nexolab/lab/core/atomicfile"
)

// Lifetimes: the CA outlives many leaves; a leaf is renewed once less than RenewBefore of
// its validity is left, so an apply every few weeks always finds it valid.
const (
	CALifetime   = 10 * 365 * 24 * time.Hour
	LeafLifetime = 180 * 24 * time.Hour
	RenewBefore  = 60 * 24 * time.Hour
)

// Files in the CA folder.
const (
	CACertFile  = "ca.crt"
	caKeyFile   = "ca.key"
	LeafFile    = "tls.crt"
	LeafKeyFile = "tls.key"
)

// CA is a lab's certificate authority.
type CA struct {
	Dir    string
	Domain string
	Cert   *x509.Certificate
	// PEM is the CA certificate as `lab trust` installs it.
	PEM []byte
	key *ecdsa.PrivateKey
}

// Leaf is a server certificate signed by the CA, with its key, as PEM.
type Leaf struct {
	CertPEM, KeyPEM []byte
	Cert            *x509.Certificate
}

// Dir is the CA folder of a lab: ~/.lab/<lab>/ca.
func Dir(lab string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".lab", lab, "ca"), nil
}

// Load reads the CA of dir; fs.ErrNotExist when there is none yet.
func Load(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CACertFile), err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, caKeyFile), err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", caKeyFile, CACertFile)
	}
	domain := ""
	if len(cert.PermittedDNSDomains) == 1 {
		domain = cert.PermittedDNSDomains[0]
	}
	return &CA{Dir: dir, Domain: domain, Cert: cert, PEM: certPEM, key: key}, nil
}

// Ensure returns the CA of dir, making it on first use. A CA that cannot serve the lab any
// more (made for another domain, expired, or with a key that does not match) is replaced;
// replaced says why, since the old one may still be trusted (under the same name: `lab
// trust` then installs the new one in its place).
func Ensure(dir, lab, domain string, now time.Time) (ca *CA, replaced string, err error) {
	ca, err = Load(dir)
	switch {
	case err == nil && ca.Domain != domain:
		replaced = fmt.Sprintf("the lab CA was limited to %q, the lab's domain is now %q", ca.Domain, domain)
	case err == nil && now.After(ca.Cert.NotAfter):
		replaced = "the lab CA expired on " + ca.Cert.NotAfter.Format(time.DateOnly)
	case err == nil:
		return ca, "", nil
	case !errors.Is(err, fs.ErrNotExist):
		replaced = err.Error()
	}
	ca, err = create(dir, lab, domain, now)
	return ca, replaced, err
}

func create(dir, lab, domain string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	_, all4, _ := net.ParseCIDR("0.0.0.0/0")
	_, all6, _ := net.ParseCIDR("::/0")
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "lab " + lab + " CA (" + domain + ")", Organization: []string{"lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// The CA can vouch only for the lab's domain: trusting it puts no other site at risk.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{domain},
		ExcludedIPRanges:            []*net.IPNet{all4, all6},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a certificate without its key would read as a broken CA.
	if err := atomicfile.Write(filepath.Join(dir, caKeyFile), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, CACertFile), certPEM, 0o644); err != nil {
		return nil, err
	}
	return Load(dir)
}

// Hosts are the names the lab's certificate covers: the domain, every host directly under
// it (argocd., grafana., develop., ...), the environments' API and auth hosts, and any
// extra host under the domain that no wildcard covers.
func Hosts(domain string, extra ...string) []string {
	out := []string{domain, "*." + domain, "*.api." + domain, "*.auth." + domain}
	for _, h := range extra {
		if (h == domain || strings.HasSuffix(h, "."+domain)) && !covered(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// covered reports whether a name, or a wildcard one label up, is among names.
func covered(names []string, host string) bool {
	if slices.Contains(names, host) {
		return true
	}
	_, parent, ok := strings.Cut(host, ".")
	return ok && slices.Contains(names, "*."+parent)
}

// Leaf returns the lab's server certificate for hosts, kept in the CA folder. It issues a
// new one when there is none, when it lacks a host, was signed by another CA, or has less
// than RenewBefore left; issued says so.
func (ca *CA) Leaf(hosts []string, now time.Time) (leaf *Leaf, issued bool, err error) {
	if cur, err := ca.loadLeaf(); err == nil && ca.Fresh(cur.Cert, hosts, now) {
		return cur, false, nil
	}
	leaf, err = ca.issue(hosts, now)
	if err != nil {
		return nil, false, err
	}
	if err := atomicfile.Write(filepath.Join(ca.Dir, LeafKeyFile), leaf.KeyPEM, 0o600); err != nil {
		return nil, false, err
	}
	if err := atomicfile.Write(filepath.Join(ca.Dir, LeafFile), leaf.CertPEM, 0o644); err != nil {
		return nil, false, err
	}
	return leaf, true, nil
}

// Fresh reports whether cert is this CA's, covers every host and has more than
// RenewBefore left at now.
func (ca *CA) Fresh(cert *x509.Certificate, hosts []string, now time.Time) bool {
	if cert.CheckSignatureFrom(ca.Cert) != nil || now.Add(RenewBefore).After(cert.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if !slices.Contains(cert.DNSNames, h) {
			return false
		}
	}
	return true
}

// Current returns the CA and leaf in dir when Ensure and Leaf would keep both as they
// are for domain and hosts; it changes nothing.
func Current(dir, domain string, hosts []string, now time.Time) (*CA, *Leaf, bool) {
	ca, err := Load(dir)
	if err != nil || ca.Domain != domain || now.After(ca.Cert.NotAfter) {
		return nil, nil, false
	}
	leaf, err := ca.loadLeaf()
	if err != nil || !ca.Fresh(leaf.Cert, hosts, now) {
		return nil, nil, false
	}
	return ca, leaf, true
}

func (ca *CA) loadLeaf() (*Leaf, error) {
	certPEM, err := os.ReadFile(filepath.Join(ca.Dir, LeafFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(ca.Dir, LeafKeyFile))
	if err != nil {
		return nil, err
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, err
	}
	return &Leaf{CertPEM: certPEM, KeyPEM: keyPEM, Cert: cert}, nil
}

func (ca *CA) issue(hosts []string, now time.Time) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"lab"}},
		DNSNames:     hosts,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(LeafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Leaf{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM, Cert: cert}, nil
}

// Fingerprint is the SHA-256 of a certificate, in hex, as `lab trust` and the portal show it.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// ParseCert reads the first certificate of a PEM file's content.
func ParseCert(data []byte) (*x509.Certificate, error) { return parseCert(data) }

func parseCert(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM certificate")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

func parseKey(data []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("want an ECDSA key, got %T", k)
	}
	return ec, nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}
