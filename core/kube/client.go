// Package kube is lab's client-go layer, shared by the host and every stack: objects
// applied server-side, rollout waits through the API, namespaces with quotas, generated
// secrets, workload checks and the no-op apply's Verifier. Helm releases are core/helm's;
// this package does not link Helm, so neither does the host.
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

// Client talks to the lab's cluster through client-go.
type Client struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Config  *rest.Config
	Log     hclog.Logger

	raw       *clientcmdapi.Config
	context   string
	discovery *sharedDiscovery
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
	return &Client{Kube: kc, Dynamic: dc, Config: cfg, Log: log, raw: raw, context: c.Context, discovery: &sharedDiscovery{}}, nil
}

// sharedDiscovery is one discovery cache and one REST mapper over it for the whole
// client, Helm's part included (core/helm). Building a mapper from discovery costs
// megabytes of allocations, and Helm asks for one on every Build of a manifest (each hook,
// each release), as did every object lab applied.
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

// CachedDiscovery is the client's discovery of the cluster's APIs, cached.
func (c *Client) CachedDiscovery() (discovery.CachedDiscoveryInterface, error) {
	if err := c.discovery.init(c.Config); err != nil {
		return nil, err
	}
	return c.discovery.client, nil
}

// Mapper maps kinds to resources, for applying objects of any kind.
func (c *Client) Mapper() (meta.RESTMapper, error) {
	if err := c.discovery.init(c.Config); err != nil {
		return nil, err
	}
	return c.discovery.shorts, nil
}

// ClientConfig is the client's kubeconfig with namespace as its default namespace.
func (c *Client) ClientConfig(namespace string) clientcmd.ClientConfig {
	overrides := &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: namespace}}
	return clientcmd.NewNonInteractiveClientConfig(*c.raw, c.context, overrides, nil)
}
