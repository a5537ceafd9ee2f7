package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
)

// bundles are the files Linux distributions build their trusted roots into (the ones Go's
// crypto/x509 reads).
var bundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

// SystemRoots reads the system's trusted roots as they are now. x509.SystemCertPool reads
// them once per process, which would hide a change lab trust just made; on macOS it asks
// the platform verifier each time.
func SystemRoots() (*x509.CertPool, error) {
	if runtime.GOOS == "darwin" {
		return x509.SystemCertPool()
	}
	files := bundles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%s holds no certificate", f)
		}
		return pool, nil
	}
	return nil, errors.New("no system CA bundle found")
}

// Handshake serves cert on a local port and connects to it as a client trusting roots,
// naming host: it succeeds only when roots vouch for cert for that host.
func Handshake(ctx context.Context, cert tls.Certificate, host string, roots *x509.CertPool) error {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_ = c.(*tls.Conn).Handshake()
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12}}
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	return c.Close()
}

// Verify is the handshake with the system's roots as they are now.
func Verify(ctx context.Context, cert tls.Certificate, host string) error {
	roots, err := SystemRoots()
	if err != nil {
		return err
	}
	return Handshake(ctx, cert, host, roots)
}
