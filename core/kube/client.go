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
	loader, err := clientConfig(c.Kubeconfig, c.Context)
	if err != nil {
		return nil, err
	}
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
		getter: &restGetter{config: cfg, loader: loader},
		Cache:  DefaultCache(),
	}, nil
}

func clientConfig(kubeconfig []byte, context string) (clientcmd.ClientConfig, error) {
	raw, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return clientcmd.NewNonInteractiveClientConfig(*raw, context, &clientcmd.ConfigOverrides{}, nil), nil
}

// restGetter gives Helm the cluster connection, sharing one discovery cache.
type restGetter struct {
	config *rest.Config
	loader clientcmd.ClientConfig

	once      sync.Once
	discovery discovery.CachedDiscoveryInterface
	err       error
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.once.Do(func() {
		var dc discovery.DiscoveryInterface
		dc, g.err = discovery.NewDiscoveryClientForConfig(g.config)
		if g.err == nil {
			g.discovery = memory.NewMemCacheClient(dc)
		}
	})
	return g.discovery, g.err
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	m := restmapper.NewDeferredDiscoveryRESTMapper(dc)
	return restmapper.NewShortcutExpander(m, dc, nil), nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }

// Mapper maps kinds to resources, for applying objects of any kind.
func (c *Client) Mapper() (meta.RESTMapper, error) { return c.getter.ToRESTMapper() }
