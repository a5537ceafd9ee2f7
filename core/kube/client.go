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

// sharedDiscovery is one discovery cache and one REST mapper over it for the whole
// process. Building a mapper from discovery costs megabytes of allocations, and Helm asks
// for one on every Build of a manifest (each hook, each release), as did every object lab
// applied.
type sharedDiscovery struct {
	once   sync.Once
	client discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	shorts meta.RESTMapper
	err    error
}

func (d *sharedDiscovery) init(cfg *rest.Config) error {
	d.once.Do(func() {
		var dc discovery.DiscoveryInterface
		if dc, d.err = discovery.NewDiscoveryClientForConfig(cfg); d.err != nil {
			return
		}
		d.client = memory.NewMemCacheClient(dc)
		d.mapper = restmapper.NewDeferredDiscoveryRESTMapper(d.client)
		d.shorts = restmapper.NewShortcutExpander(d.mapper, d.client, nil)
	})
	return d.err
}

// in returns the getter for a namespace.
func (g *restGetter) in(namespace string) *restGetter {
	c := *g
	c.namespace = namespace
	return &c
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	if err := g.discovery.init(g.config); err != nil {
		return nil, err
	}
	return g.discovery.client, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	if err := g.discovery.init(g.config); err != nil {
		return nil, err
	}
	return g.discovery.shorts, nil
}

// forget drops the cached API resources and the mappings made from them, so that kinds of
// CRDs created since map.
func (g *restGetter) forget() {
	if g.discovery.init(g.config) == nil {
		g.discovery.mapper.Reset() // invalidates the discovery cache too
	}
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	overrides := &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}}
	return clientcmd.NewNonInteractiveClientConfig(*g.raw, g.context, overrides, nil)
}

// Mapper maps kinds to resources, for applying objects of any kind.
func (c *Client) Mapper() (meta.RESTMapper, error) { return c.getter.ToRESTMapper() }
