package labca

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nexolab/lab/core/sdk"
)

// ReadPair reads a certificate (with its chain) and its key, PEM, and checks that they
// belong together.
func ReadPair(certFile, keyFile string) (certPEM, keyPEM []byte, err error) {
	if certPEM, err = os.ReadFile(certFile); err != nil {
		return nil, nil, err
	}
	if keyPEM, err = os.ReadFile(keyFile); err != nil {
		return nil, nil, err
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, nil, fmt.Errorf("%s and %s are not a certificate and its key: %w", certFile, keyFile, err)
	}
	return certPEM, keyPEM, nil
}

// Serve puts the certificate a controller serves by default into the TLS Secret ns/name:
// the user's own pair when certFile is set, else a copy of the lab's (kept current when
// apply renews it). It says what it serves; "" when the lab's is not published yet.
func Serve(ctx context.Context, kc kubernetes.Interface, ns, name string, labels map[string]string, certFile, keyFile string) (string, error) {
	if certFile != "" {
		certPEM, keyPEM, err := ReadPair(certFile, keyFile)
		if err != nil {
			return "", err
		}
		return certFile, PutTLS(ctx, kc, ns, name, labels, certPEM, keyPEM)
	}
	found, err := Copy(ctx, kc, ns, name, labels)
	if err != nil || !found {
		return "", err
	}
	return "the lab certificate", nil
}

// CheckServed judges the certificate in the TLS Secret ns/name for the lab's domain: a
// certificate and key that belong together, valid now, covering the domain's hosts. own is
// the user's file, which lab cannot renew, named in a warning before it expires.
func CheckServed(ctx context.Context, kc kubernetes.Interface, ns, name, domain, own string) (sdk.Status, string) {
	sec, err := kc.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return sdk.Degraded, fmt.Sprintf("Secret %s/%s is missing: the controller serves a self-signed certificate (run lab apply)", ns, name)
	}
	if err != nil {
		return sdk.Unhealthy, err.Error()
	}
	if _, err := tls.X509KeyPair(sec.Data["tls.crt"], sec.Data["tls.key"]); err != nil {
		return sdk.Unhealthy, fmt.Sprintf("Secret %s/%s: %v", ns, name, err)
	}
	cert, err := ParseCert(sec.Data["tls.crt"])
	if err != nil {
		return sdk.Unhealthy, fmt.Sprintf("Secret %s/%s: %v", ns, name, err)
	}
	issuer := "the lab certificate"
	if own != "" {
		issuer = own
	}
	switch left := time.Until(cert.NotAfter); {
	case left <= 0:
		return sdk.Unhealthy, fmt.Sprintf("the certificate expired on %s", cert.NotAfter.Format(time.DateOnly))
	case cert.VerifyHostname("lab."+domain) != nil:
		return sdk.Unhealthy, fmt.Sprintf("the certificate does not cover *.%s (it names %v)", domain, cert.DNSNames)
	case left < RenewBefore && own != "":
		return sdk.Degraded, fmt.Sprintf("%s expires on %s: renew it", own, cert.NotAfter.Format(time.DateOnly))
	}
	return sdk.Healthy, fmt.Sprintf("serves %s for *.%s until %s", issuer, domain, cert.NotAfter.Format(time.DateOnly))
}
