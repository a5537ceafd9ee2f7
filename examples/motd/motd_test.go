package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// The values carry the config and the lab's domain; an empty message is refused at its
// attribute before anything runs.
func TestValuesAndValidate(t *testing.T) {
	ctx := context.Background()
	req := &sdk.Request{Lab: sdk.Lab{Domain: "test.local"}, Config: &Config{Message: "hi", Replicas: 2}}
	rels, err := New().Releases(ctx, req)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	assert.Equal(t, "motd.test.local", rels[0].Values["host"])
	assert.Equal(t, 2, rels[0].Values["replicas"])

	d := New().Validate(ctx, &sdk.Request{Config: &Config{Message: " ", Replicas: 1}})
	require.Len(t, d, 1)
	assert.Equal(t, "message", d[0].Attribute)
}
