// Package kube holds what every chart-based stack needs: Helm install-or-upgrade that only
// acts when the chart or values changed, rollout waits through the API, namespaces with
// quotas, generated secrets and workload checks.
package kube

import (
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nexolab/lab/core/sdk"
)

// Client talks to the lab's cluster through client-go and Helm.
type Client struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Config  *rest.Config
	Log     hclog.Logger

	getter *restGetter
	// Cache is the folder for downloaded charts and repository indexes.
	Cache string
}

// Connect opens a client on the cluster of a request.
func Connect(c sdk.Cluster, log hclog.Logger) (*Client, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	raw, err := clientcmd.Load(c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	loader := clientcmd.NewNonInteractiveClientConfig(*raw, c.Context, &clientcmd.ConfigOverrides{}, nil)
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200 // a lab install sends bursts of small requests
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{
		Kube: kc, Dynamic: dc, Config: cfg, Log: log,
		getter: &restGetter{config: cfg, raw: raw, context: c.Context, discovery: &sharedDiscovery{}},
		Cache:  DefaultCache(),
	}, nil
}

// restGetter gives Helm the cluster connection. Helm puts a release's objects in the
// getter's namespace, so each release gets a getter of its namespace; all share one
// discovery cache.
type restGetter struct {
	config    *rest.Config
	raw       *clientcmdapi.Config
	context   string
	namespace string
	discovery *sharedDiscovery
}

type sharedDiscovery struct {
	once   sync.Once
	client discovery.CachedDiscoveryInterface
	err    error
}

// in returns the getter for a namespace.
func (g *restGetter) in(namespace string) *restGetter {
	c := *g
	c.namespace = namespace
	return &c
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	d := g.discovery
	d.once.Do(func() {
		var dc discovery.DiscoveryInterface
		dc, d.err = discovery.NewDiscoveryClientForConfig(g.config)
		if d.err == nil {
			d.client = memory.NewMemCacheClient(dc)
		}
	})
	return d.client, d.err
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	m := restmapper.NewDeferredDiscoveryRESTMapper(dc)
	return restmapper.NewShortcutExpander(m, dc, nil), nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	overrides := &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}}
	return clientcmd.NewNonInteractiveClientConfig(*g.raw, g.context, overrides, nil)
}

// Mapper maps kinds to resources, for applying objects of any kind.
func (c *Client) Mapper() (meta.RESTMapper, error) { return c.getter.ToRESTMapper() }
