package sdk

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/nexolab/lab/core/proto/labv1"
)

// ProtocolVersion is the version of the plugin protocol this SDK speaks.
// The host and a plugin agree on the highest version both know.
const ProtocolVersion = 1

// PluginName is the key of the stack plugin in go-plugin's plugin set.
const PluginName = "stack"

// Handshake is shared by the host and every plugin. The cookie only tells a user who runs
// a plugin binary by hand that it is not a command; it is not a security measure.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "LAB_PLUGIN_COOKIE",
	MagicCookieValue: "6f1d3b0e-lab-stack-plugin",
}

// Serve runs the plugin: it is the whole of a plugin's main.
//
//	func main() { sdk.Serve(ingress.New) }
func Serve[S Stack](newStack func() S) {
	nameProcess()
	log := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {PluginName: &GRPCPlugin{Impl: newStack(), Log: log}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     log,
	})
}

// GRPCPlugin binds a Stack to go-plugin's gRPC transport. The host uses it with Impl nil.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Stack
	Log  hclog.Logger
}

// GRPCServer registers the stack's server in the plugin process.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	labv1.RegisterStackServer(s, &server{impl: p.Impl, log: p.Log})
	return nil
}

// GRPCClient returns the host's client of a launched plugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: labv1.NewStackClient(c)}, nil
}
