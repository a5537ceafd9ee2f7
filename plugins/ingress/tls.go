package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
)

// certSecret is the controller's default certificate, in the controller's namespace:
// a copy of the lab's certificate that apply publishes (kept current on renewal), or the
// user's own from tls_cert and tls_key.
const certSecret = "lab-tls"

// validateTLS: the user's certificate comes as a pair that belongs together, read before
// anything changes.
func validateTLS(cfg *Config, d *sdk.Diagnostics) {
	switch {
	case cfg.TLSCert == "" && cfg.TLSKey == "":
		return
	case cfg.TLSCert == "":
		d.Errorf("tls_cert", "tls_key is set without tls_cert: give both, or neither for the lab's own certificate")
		return
	case cfg.TLSKey == "":
		d.Errorf("tls_key", "tls_cert is set without tls_key: give both, or neither for the lab's own certificate")
		return
	}
	if _, _, err := readPair(cfg); err != nil {
		d.Errorf("tls_cert", "%v", err)
	}
}

func readPair(cfg *Config) (certPEM, keyPEM []byte, err error) {
	if certPEM, err = os.ReadFile(cfg.TLSCert); err != nil {
		return nil, nil, err
	}
	if keyPEM, err = os.ReadFile(cfg.TLSKey); err != nil {
		return nil, nil, err
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, nil, fmt.Errorf("%s and %s are not a certificate and its key: %w", cfg.TLSCert, cfg.TLSKey, err)
	}
	return certPEM, keyPEM, nil
}

// ensureCertificate writes the controller's default certificate Secret before the chart
// refers to it.
func ensureCertificate(ctx context.Context, s *session) error {
	if s.DryRun {
		return nil
	}
	ns, owned := s.Config.Namespace, kube.Owned(s.Stack(), nil)
	if s.Config.TLSCert != "" {
		certPEM, keyPEM, err := readPair(s.Config)
		if err != nil {
			return err
		}
		s.Req.Emit("certificate", "default certificate from %s", s.Config.TLSCert)
		return labca.PutTLS(ctx, s.Kube.Kube, ns, certSecret, owned, certPEM, keyPEM)
	}
	found, err := labca.Copy(ctx, s.Kube.Kube, ns, certSecret, owned)
	if err != nil {
		return err
	}
	if !found {
		s.Req.Warn("certificate", "no lab certificate in %s/%s (lab apply publishes it): the controller serves its own self-signed one",
			labca.SecretNamespace, labca.SecretName)
		return nil
	}
	s.Req.Emit("certificate", "default certificate: the lab's, from %s/%s", labca.SecretNamespace, labca.SecretName)
	return nil
}

// checkCertificate reports the certificate the controller serves by default: present, a
// certificate and key that belong together, valid now and for the lab's hosts.
func checkCertificate(ctx context.Context, s *session, h *sdk.Health) {
	const name = "default certificate"
	sec, err := s.Kube.Kube.CoreV1().Secrets(s.Config.Namespace).Get(ctx, certSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		h.Add(name, sdk.Degraded, "Secret %s/%s is missing: the controller serves a self-signed certificate (run lab apply)", s.Config.Namespace, certSecret)
		return
	}
	if err != nil {
		h.Add(name, sdk.Unhealthy, "%v", err)
		return
	}
	if _, err := tls.X509KeyPair(sec.Data["tls.crt"], sec.Data["tls.key"]); err != nil {
		h.Add(name, sdk.Unhealthy, "Secret %s/%s: %v", s.Config.Namespace, certSecret, err)
		return
	}
	cert, err := labca.ParseCert(sec.Data["tls.crt"])
	if err != nil {
		h.Add(name, sdk.Unhealthy, "Secret %s/%s: %v", s.Config.Namespace, certSecret, err)
		return
	}
	host := s.Host("lab")
	switch left := time.Until(cert.NotAfter); {
	case left <= 0:
		h.Add(name, sdk.Unhealthy, "the certificate expired on %s", cert.NotAfter.Format(time.DateOnly))
	case cert.VerifyHostname(host) != nil:
		h.Add(name, sdk.Unhealthy, "the certificate does not cover *.%s (it names %v)", s.Req.Lab.Domain, cert.DNSNames)
	case left < labca.RenewBefore && s.Config.TLSCert != "":
		h.Add(name, sdk.Degraded, "%s expires on %s: renew it", s.Config.TLSCert, cert.NotAfter.Format(time.DateOnly))
	default:
		h.Add(name, sdk.Healthy, "serves %s for *.%s until %s", issuer(s), s.Req.Lab.Domain, cert.NotAfter.Format(time.DateOnly))
	}
}

func issuer(s *session) string {
	if s.Config.TLSCert != "" {
		return s.Config.TLSCert
	}
	return "the lab certificate"
}
