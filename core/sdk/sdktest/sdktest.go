// Package sdktest checks a plugin binary against the lab plugin contract: point it at
// the binary and a cluster, and it runs Info and Schema, then
// Install -> Health -> Install (no change) -> Uninstall, each as a subtest.
package sdktest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
)

// Options say which plugin to check and where.
type Options struct {
	// Binary is the plugin's path; its name must be lab-plugin-<stack>.
	Binary  string
	Cluster sdk.Cluster
	Lab     sdk.Lab
	// Config sets attributes of the stack block; the schema's defaults fill the rest.
	Config map[string]any
	Charts map[string]sdk.ChartOverride
	// Timeout bounds each call and the wait for health; 3 minutes when zero.
	Timeout time.Duration
}

// Run checks the plugin. It leaves the stack uninstalled.
func Run(t *testing.T, o Options) {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	name := strings.TrimPrefix(filepath.Base(o.Binary), pluginhost.Prefix)
	host := pluginhost.New(pluginhost.Options{Dirs: []string{filepath.Dir(o.Binary)},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: testWriter{t}})})
	t.Cleanup(host.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 4*o.Timeout)
	t.Cleanup(cancel)

	p, err := host.Launch(ctx, name)
	require.NoError(t, err, "launch %s", o.Binary)
	var schema []sdk.Attribute
	t.Run("info", func(t *testing.T) { checkInfo(t, p.Info, name) })
	t.Run("schema", func(t *testing.T) { schema = checkSchema(t, ctx, p.Client) })
	req := request(t, o, name, schema)

	var first *sdk.Result
	ok := t.Run("install", func(t *testing.T) {
		first, err = call(ctx, o.Timeout, func(ctx context.Context) (*sdk.Result, error) { return p.Client.Install(ctx, req) })
		require.NoError(t, err)
	})
	if !ok {
		return
	}
	t.Run("health", func(t *testing.T) { waitHealthy(t, ctx, p.Client, req, o.Timeout) })
	t.Run("install again changes nothing", func(t *testing.T) {
		again, err := call(ctx, o.Timeout, func(ctx context.Context) (*sdk.Result, error) { return p.Client.Install(ctx, req) })
		require.NoError(t, err)
		assert.False(t, again.Changed, "a second install with the same config reported a change")
		for i, rel := range again.Releases {
			if i < len(first.Releases) {
				assert.Equal(t, first.Releases[i].Revision, rel.Revision, "release %s got a new revision", rel.Name)
			}
		}
	})
	t.Run("uninstall", func(t *testing.T) {
		_, err := call(ctx, o.Timeout, func(ctx context.Context) (*sdk.Result, error) { return p.Client.Uninstall(ctx, req) })
		require.NoError(t, err)
		h, err := p.Client.Health(ctx, req)
		if err == nil {
			assert.NotEqual(t, sdk.Healthy, h.Status(), "the stack still reports healthy after uninstall")
		}
	})
}

func checkInfo(t *testing.T, info sdk.Info, name string) {
	assert.Equal(t, name, info.Name, "Info.Name must match the binary name lab-plugin-<name>")
	assert.NotEmpty(t, info.Version, "Info.Version")
	assert.Equal(t, sdk.ProtocolVersion, info.Protocol, "negotiated protocol")
	assert.NotContains(t, info.DependsOn, name, "a stack cannot depend on itself")
}

var types = map[string]bool{sdk.TypeString: true, sdk.TypeNumber: true, sdk.TypeInteger: true, sdk.TypeBool: true,
	sdk.TypeListString: true, sdk.TypeListNumber: true, sdk.TypeMapString: true, sdk.TypeAny: true, sdk.TypeBlock: true}

func checkSchema(t *testing.T, ctx context.Context, c *sdk.Client) []sdk.Attribute {
	attrs, err := c.Schema(ctx)
	require.NoError(t, err)
	for _, a := range attrs {
		assert.True(t, types[a.Type], "attribute %s has unknown type %q", a.Name, a.Type)
		assert.NotContains(t, []string{"enabled", "depends_on", "timeout", "chart"}, a.Name, "reserved attribute name")
		if a.Required {
			assert.Nil(t, a.Default, "required attribute %s has a default", a.Name)
		}
	}
	return attrs
}

func request(t *testing.T, o Options, name string, schema []sdk.Attribute) *sdk.Request {
	cfg := map[string]any{}
	for _, a := range schema {
		if a.Default != nil {
			cfg[a.Name] = a.Default
		}
	}
	for k, v := range o.Config {
		cfg[k] = v
	}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	return &sdk.Request{Stack: name, Cluster: o.Cluster, Lab: o.Lab, ConfigJSON: b, Charts: o.Charts,
		OnEvent: func(e sdk.Event) { t.Logf("%s: %s", e.Step, e.Message) }}
}

func call(ctx context.Context, timeout time.Duration, fn func(context.Context) (*sdk.Result, error)) (*sdk.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return fn(ctx)
}

func waitHealthy(t *testing.T, ctx context.Context, c *sdk.Client, req *sdk.Request, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		h, err := c.Health(ctx, req)
		require.NoError(t, err)
		if h.Status() == sdk.Healthy {
			require.NotEmpty(t, h.Checks, "a healthy stack must run at least one check")
			return
		}
		if time.Now().After(deadline) {
			for _, ch := range h.Checks {
				t.Logf("%s: %s: %s", ch.Name, ch.Status, ch.Message)
			}
			t.Fatalf("not healthy after %s", timeout)
		}
		time.Sleep(time.Second)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
