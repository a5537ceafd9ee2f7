package helm

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nexolab/lab/core/kube"
)

// restGetter gives Helm the cluster connection. Helm puts a release's objects in the
// getter's namespace, so each release gets a getter of its namespace; all share the
// kube.Client's discovery cache.
type restGetter struct {
	c         *kube.Client
	namespace string
}

func (g restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.c.Config), nil }

func (g restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.c.CachedDiscovery()
}

func (g restGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.c.Mapper() }

func (g restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return g.c.ClientConfig(g.namespace)
}
