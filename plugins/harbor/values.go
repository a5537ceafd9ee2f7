package harbor

import (
	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
)

var chart = helm.Chart{Repository: "https://helm.goharbor.io", Name: "harbor", Version: "1.19.1"}

func releases(s *session) ([]helm.Release, error) {
	return []helm.Release{{Name: releaseName, Namespace: s.Config.Namespace, Chart: chart, Values: values(s)}}, nil
}

// values are the chart's values. Every generated secret comes from the Secrets of
// prepare through the chart's existingSecret keys; only the internal database's password
// is a value, because the chart reads it from nowhere else.
func values(s *session) map[string]any {
	cfg := s.Config
	host := s.Host("harbor")
	pvc := func(size string) map[string]any { return map[string]any{"size": size} }
	v := map[string]any{
		// TLS ends at the ingress; the body size limit is the chart's "0" (unlimited, for
		// layer uploads), on NGINX and Traefik.
		"expose": map[string]any{
			"type":    "ingress",
			"tls":     tls(s),
			"ingress": map[string]any{"hosts": map[string]any{"core": host}},
		},
		"externalURL": "https://" + host,
		"persistence": map[string]any{
			"enabled":        true,
			"resourcePolicy": "keep",
			"persistentVolumeClaim": map[string]any{
				"registry":   pvc(cfg.RegistrySize),
				"jobservice": map[string]any{"jobLog": pvc(cfg.JobserviceSize)},
				"database":   pvc(cfg.DatabaseSize),
				"redis":      pvc(cfg.RedisSize),
				"trivy":      pvc(cfg.TrivySize),
			},
		},
		// The registry's and jobservice's volumes are ReadWriteOnce (local-path): the old
		// pod must let go before the new one mounts them.
		"updateStrategy":                 map[string]any{"type": "Recreate"},
		"existingSecretAdminPassword":    adminSecret,
		"existingSecretAdminPasswordKey": kube.PasswordKey,
		"existingSecretSecretKey":        secretsName,
		"core": map[string]any{
			"existingSecret":        secretsName,
			"existingXsrfSecret":    secretsName,
			"existingXsrfSecretKey": keyCSRF,
			"secretName":            tokenSecret,
		},
		"jobservice": map[string]any{"existingSecret": secretsName, "existingSecretKey": keyJobservice},
		"registry": map[string]any{
			"existingSecret":    secretsName,
			"existingSecretKey": keyRegistry,
			"credentials":       map[string]any{"username": registryUser, "existingSecret": secretsName},
		},
		"trivy": map[string]any{
			"enabled":          true,
			"skipUpdate":       cfg.TrivySkipUpdate,
			"skipJavaDBUpdate": cfg.TrivySkipUpdate,
			"offlineScan":      cfg.TrivySkipUpdate,
		},
		"database": map[string]any{
			"type":     "internal",
			"internal": map[string]any{"password": databasePassword(s)},
		},
		"metrics": map[string]any{"enabled": false},
	}
	if lab, _ := s.Values[tlsSecret].(bool); lab {
		v["caSecretName"] = tlsSecret // the CA the portal offers for download
	}
	kube.SetResources(v, containers)
	return v
}

// tls is the lab's certificate when apply made one, else the chart's own.
func tls(s *session) map[string]any {
	if lab, _ := s.Values[tlsSecret].(bool); lab {
		return map[string]any{"enabled": true, "certSource": "secret", "secret": map[string]any{"secretName": tlsSecret}}
	}
	return map[string]any{"enabled": true, "certSource": "auto"}
}

func databasePassword(s *session) string {
	if p, ok := s.Values[keyDatabase].(string); ok {
		return p
	}
	return ""
}
