package main

import (
	"testing"

	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/sdk/sdktest"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 1, &cluster) }

// The plugin, built as users build it, passes the SDK's conformance checks.
func TestConformance(t *testing.T) {
	bin := testenv.BuildPlugin(t, "motd")
	sdktest.Run(t, sdktest.Options{
		Binary:  bin,
		Cluster: cluster.Conn,
		Lab:     sdk.Lab{Name: "test", Domain: "test.local"},
		Config:  map[string]any{"message": "hello from the test", "replicas": 2},
	})
}
