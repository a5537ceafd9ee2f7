package ingress

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 3, &cluster) }

// Both controllers pass the plugin conformance run against the test charts, served from
// a local chart repository like the upstream ones.
func TestConformance(t *testing.T) {
	bin := testenv.BuildPlugin(t, "ingress")
	repo := testenv.ChartRepo(t, "ingress-nginx", "traefik")
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	publish(t, c, "test.local") // as apply does before any stack runs
	for _, ctl := range []string{"nginx", "traefik"} {
		t.Run(ctl, func(t *testing.T) {
			sdktest.Run(t, sdktest.Options{
				Binary:  bin,
				Cluster: cluster.Conn,
				Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
				Config:  map[string]any{"controller": ctl},
				Charts: map[string]sdk.ChartOverride{
					"ingress-nginx": {Repository: repo}, "traefik": {Repository: repo},
				},
			})
		})
	}
}

// The controller runs on every node with host ports 80/443, inside the namespace quota.
func TestControllerOnEveryNodeWithHostPorts(t *testing.T) {
	repo := testenv.ChartRepo(t, "ingress-nginx")
	ctx := context.Background()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	s := New()
	cfg := s.Config().(*Config)
	cfg.Namespace = "ingress-hostports"
	req := &sdk.Request{Cluster: cluster.Conn, Lab: sdk.Lab{Domain: "test.local"}, Config: cfg,
		Charts: map[string]sdk.ChartOverride{"ingress-nginx": {Repository: repo}}}
	_, err = s.Install(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = s.Uninstall(ctx, req) })

	ds, err := c.Kube.AppsV1().DaemonSets(cfg.Namespace).Get(ctx, "ingress-nginx-controller", metav1.GetOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 3, ds.Status.NumberReady, "one controller per node")
	ports := map[string]int32{}
	for _, p := range ds.Spec.Template.Spec.Containers[0].Ports {
		ports[p.Name] = p.HostPort
	}
	assert.Equal(t, map[string]int32{"http": 80, "https": 443}, ports)
	q, err := c.Kube.CoreV1().ResourceQuotas(cfg.Namespace).Get(ctx, "lab-quota", metav1.GetOptions{})
	require.NoError(t, err)
	used := q.Status.Used["requests.cpu"]
	assert.Equal(t, "300m", used.String(), "3 controllers of 100m each are counted by the quota")

	h, err := s.Health(ctx, req)
	require.NoError(t, err)
	statuses := map[string]sdk.Status{}
	for _, ch := range h.Checks {
		statuses[ch.Name] = ch.Status
	}
	assert.Equal(t, map[string]sdk.Status{
		"controller rollout": sdk.Healthy, "ingress class": sdk.Healthy, "controller probe": sdk.Skipped,
		"default certificate": sdk.Degraded, // no lab certificate published for test.local here
	}, statuses)
}
