package ingress

import "github.com/nexolab/lab/core/helm"

// controller is one ingress controller lab can install.
type controller struct {
	name, release, class string
	chart                helm.Chart
	values               func(cfg *Config, domain string, simulated bool) map[string]any
	// probePort and probePath are the controller's health endpoint.
	probePort, probePath string
}

// controllers by the name the controller attribute gives (its enum).
var controllers = map[string]controller{
	"nginx": {name: "nginx", release: "ingress-nginx", class: "nginx", values: nginxValues, probePort: "10254", probePath: "/healthz",
		chart: helm.Chart{Repository: "https://kubernetes.github.io/ingress-nginx", Name: "ingress-nginx", Version: "4.15.1"}},
	"traefik": {name: "traefik", release: "traefik", class: "traefik", values: traefikValues, probePort: "8080", probePath: "/ping",
		chart: helm.Chart{Repository: "https://traefik.github.io/charts", Name: "traefik", Version: "41.3.0"}},
}

// nginxValues runs the controller on every node with host ports 80 and 443: k3d's load
// balancer forwards the host's ports to the nodes. The admission webhook is left out on a
// simulated cluster, where no container would answer it and every Ingress would be refused.
func nginxValues(cfg *Config, _ string, simulated bool) map[string]any {
	return map[string]any{
		"controller": map[string]any{
			"kind":                 "DaemonSet",
			"hostPort":             map[string]any{"enabled": true, "ports": map[string]any{"http": 80, "https": 443}},
			"service":              map[string]any{"type": "ClusterIP"},
			"ingressClassResource": map[string]any{"name": "nginx", "default": cfg.DefaultClass},
			"resources":            controllerPod.Resources(),
			"admissionWebhooks":    map[string]any{"enabled": !simulated},
			// Every host gets the lab's certificate, and plain http a redirect to https.
			"extraArgs": map[string]any{"default-ssl-certificate": cfg.Namespace + "/" + certSecret},
			"config":    map[string]any{"use-forwarded-headers": "true", "force-ssl-redirect": "true"},
		},
	}
}

// traefikValues: the dashboard answers at traefik.<domain>, over https only.
func traefikValues(cfg *Config, domain string, _ bool) map[string]any {
	return map[string]any{
		"deployment": map[string]any{"kind": "DaemonSet"},
		"ports": map[string]any{
			"web": map[string]any{"hostPort": 80, "http": map[string]any{"redirections": map[string]any{
				"entryPoint": map[string]any{"to": "websecure", "scheme": "https", "permanent": true}}}},
			"websecure": map[string]any{"hostPort": 443, "http": map[string]any{"tls": map[string]any{"enabled": true}}},
		},
		// The default TLS store serves the lab's certificate for every host.
		"tlsStore":     map[string]any{"default": map[string]any{"defaultCertificate": map[string]any{"secretName": certSecret}}},
		"service":      map[string]any{"spec": map[string]any{"type": "ClusterIP"}},
		"ingressClass": map[string]any{"enabled": true, "isDefaultClass": cfg.DefaultClass, "name": "traefik"},
		"resources":    controllerPod.Resources(),
		"ingressRoute": map[string]any{"dashboard": map[string]any{
			"enabled": true, "matchRule": "Host(`traefik." + domain + "`)", "entryPoints": []any{"websecure"},
		}},
	}
}
