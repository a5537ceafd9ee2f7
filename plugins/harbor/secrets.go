package harbor

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"time"

	"golang.org/x/crypto/bcrypt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
)

// The Secrets lab generates for Harbor, once, in the stack's namespace. The chart reads
// them through its existingSecret keys, so no secret of Harbor's is in the Helm values
// but the internal database's password, for which the chart offers none.
const (
	adminSecret    = "harbor-admin"    // the admin's login (`lab credentials`)
	secretsName    = "harbor-secrets"  // Harbor's own keys and the database password
	tokenSecret    = "harbor-token"    // the token service's key pair
	registryUser   = "harbor_registry" // the registry's user for core and jobservice
	adminUser      = "admin"
	keySecretKey   = "secretKey"            // the chart's fixed key for existingSecretSecretKey
	keyCore        = "secret"               // the chart's fixed key for core.existingSecret
	keyCSRF        = "CSRF_KEY"             // core.existingXsrfSecretKey
	keyJobservice  = "JOBSERVICE_SECRET"    // jobservice.existingSecretKey
	keyRegistry    = "REGISTRY_HTTP_SECRET" // registry.existingSecretKey
	keyRegPasswd   = "REGISTRY_PASSWD"      // the chart's fixed keys of registry.credentials.existingSecret
	keyRegHtpasswd = "REGISTRY_HTPASSWD"
	keyDatabase    = "POSTGRES_PASSWORD"
)

// generated are the keys of harbor-secrets and their generators. Harbor requires
// secretKey and the component secrets to be 16 characters and the CSRF key 32.
var generated = map[string]kube.Generator{
	keySecretKey:  kube.Password(16),
	keyCore:       kube.Password(16),
	keyCSRF:       kube.Password(32),
	keyJobservice: kube.Password(16),
	keyRegistry:   kube.Password(16),
	keyRegPasswd:  kube.Password(24),
	keyDatabase:   kube.Password(24),
}

// prepare makes (or, while rendering, reads) the generated Secrets and leaves the
// database password for the values.
func prepare(ctx context.Context, s *session) error {
	ns := s.Config.Namespace
	if _, err := s.Credential(ctx, "harbor", ns, adminSecret, "https://"+s.Host("harbor"), adminUser); err != nil {
		return err
	}
	data, err := s.Secret(ctx, ns, secretsName, generated)
	if err != nil {
		return err
	}
	// The htpasswd line needs the password first; its bcrypt salt is made once too.
	if _, err := s.Secret(ctx, ns, secretsName, map[string]kube.Generator{
		keyRegHtpasswd: htpasswd(registryUser, data[keyRegPasswd]),
	}); err != nil {
		return err
	}
	key, err := s.Secret(ctx, ns, tokenSecret, map[string]kube.Generator{"tls.key": rsaKey})
	if err != nil {
		return err
	}
	if _, err := s.Secret(ctx, ns, tokenSecret, map[string]kube.Generator{"tls.crt": tokenCert(key["tls.key"])}); err != nil {
		return err
	}
	s.Values[keyDatabase] = string(data[keyDatabase])
	return labCertificate(ctx, s)
}

// tlsSecret is the stack's copy of the lab's certificate (lab-system/lab-tls), which apply
// keeps current on renewal.
const tlsSecret = "harbor-tls"

// labCertificate gives Harbor's Ingress the lab's certificate, whose CA `lab trust`
// installs, so `docker login harbor.<domain>` trusts it; the portal offers that CA for
// download. On a cluster used outside lab apply there is none: the chart makes its own.
func labCertificate(ctx context.Context, s *session) error {
	found := false
	var err error
	if s.DryRun {
		if s.Kube != nil {
			_, err = s.Kube.Kube.CoreV1().Secrets(labca.SecretNamespace).Get(ctx, labca.SecretName, metav1.GetOptions{})
			found, err = err == nil, kube.IgnoreNotFound(err)
		}
	} else {
		found, err = labca.Copy(ctx, s.Kube.Kube, s.Config.Namespace, tlsSecret, kube.Owned(s.Stack(), nil))
	}
	s.Values[tlsSecret] = found
	return err
}

// htpasswd is the registry's password file line for user (bcrypt, as the registry reads).
func htpasswd(user string, password []byte) kube.Generator {
	return func() ([]byte, error) {
		h, err := bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		return append([]byte(user+":"), h...), nil
	}
}

func rsaKey() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
}

// tokenCert is the self-signed certificate of the token service's key: core signs the
// registry's tokens with the key, the registry checks them with the certificate. Kept,
// unlike the chart's own, which is re-made on every upgrade and logs every client out.
func tokenCert(keyPEM []byte) kube.Generator {
	return func() ([]byte, error) {
		block, _ := pem.Decode(keyPEM)
		if block == nil {
			return nil, errors.New("Secret " + tokenSecret + ": tls.key is not a PEM key")
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: "harbor-token-ca"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().AddDate(10, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			IsCA:         true, BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
	}
}
