// Package cluster puts the lab's Kubernetes cluster behind one interface: k3d (created by
// lab), existing (any kubeconfig; never created or deleted by lab) and kwok (simulated).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nexolab/lab/core/sdk"
)

// Provider creates, starts, stops and deletes a cluster and connects to it.
type Provider interface {
	// Kind is the provider's name: k3d, existing or kwok.
	Kind() string
	// Name is the cluster's name.
	Name() string
	// Owned reports whether lab creates and deletes this cluster.
	Owned() bool
	// Status says whether the cluster exists, runs and matches the config.
	Status(ctx context.Context) (Status, error)
	// Create makes the cluster and starts it; the cluster must not exist. A failed create
	// removes what it made unless opts.Retain.
	Create(ctx context.Context, opts CreateOptions) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	// Delete removes the cluster; a missing cluster is not an error.
	Delete(ctx context.Context, opts DeleteOptions) error
	// Connect returns how to reach the running cluster.
	Connect(ctx context.Context) (sdk.Cluster, error)
}

// CreateOptions tune Create.
type CreateOptions struct {
	// Retain keeps what a failed create made, for debugging.
	Retain bool
}

// DeleteOptions tune Delete.
type DeleteOptions struct {
	// PurgeData also removes the lab's data folder.
	PurgeData bool
}

// Preflighter is a provider that checks the machine before it changes anything.
type Preflighter interface {
	// Preflight runs every check; need is the sum of the enabled stacks' footprints.
	Preflight(ctx context.Context, need sdk.Footprint) []Check
}

// NodeCounter is a provider that knows how many nodes its cluster has, before it exists;
// stacks' per-node footprints are multiplied by it.
type NodeCounter interface {
	NodeCount() int
}

// Check is the result of one preflight check.
type Check struct {
	Name string
	OK   bool
	// Message says what was found, and on failure what to do.
	Message string
}

// PreflightError joins the failed checks into one error; nil when all passed.
func PreflightError(checks []Check) error {
	var msgs []string
	for _, c := range checks {
		if !c.OK {
			msgs = append(msgs, c.Name+": "+c.Message)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New("preflight failed, nothing was changed:\n  " + strings.Join(msgs, "\n  "))
}

// Status is what a provider sees of its cluster.
type Status struct {
	Exists  bool
	Running bool
	// Differences lists how the existing cluster differs from the config.
	Differences []string
	// Detail is a short human description ("3 nodes, v1.37.2").
	Detail string
}

// Flatten returns a self-contained kubeconfig (certificates inlined) for one context.
func Flatten(kubeconfig []byte, context string) ([]byte, string, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	return flatten(cfg, context)
}

// FlattenFile is Flatten for a kubeconfig file; relative certificate paths resolve from it.
func FlattenFile(path, context string) ([]byte, string, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return flatten(cfg, context)
}

func flatten(cfg *clientcmdapi.Config, context string) ([]byte, string, error) {
	if context == "" {
		context = cfg.CurrentContext
	}
	if _, ok := cfg.Contexts[context]; !ok {
		return nil, "", fmt.Errorf("kubeconfig has no context %q", context)
	}
	cfg.CurrentContext = context
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return nil, "", err
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, "", err
	}
	b, err := clientcmd.Write(*cfg)
	return b, context, err
}

// Simulated reports whether every node of the cluster is simulated by kwok, so that no
// container runs: true for a kwok cluster reached through any kubeconfig.
func Simulated(ctx context.Context, c sdk.Cluster) (bool, error) {
	kc, err := clientset(c, 10*time.Second)
	if err != nil {
		return false, err
	}
	nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 50})
	if err != nil {
		return false, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if n.Annotations["kwok.x-k8s.io/node"] != "fake" {
			return false, nil
		}
	}
	return len(nodes.Items) > 0, nil
}

func clientset(c sdk.Cluster, timeout time.Duration) (*kubernetes.Clientset, error) {
	raw, err := clientcmd.Load(c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	rc, err := clientcmd.NewNonInteractiveClientConfig(*raw, c.Context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, err
	}
	rc.Timeout = timeout
	return kubernetes.NewForConfig(rc)
}

// ServerVersion asks the API server its version, within a timeout.
func ServerVersion(c sdk.Cluster, timeout time.Duration) (string, error) {
	kc, err := clientset(c, timeout)
	if err != nil {
		return "", err
	}
	v, err := kc.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("API server not reachable: %w", err)
	}
	return v.GitVersion, nil
}
