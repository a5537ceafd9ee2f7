// Command oldproto is a plugin built for a protocol version this lab does not speak
// (99), to test that the host names the mismatch instead of failing obscurely.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/nexolab/lab/core/sdk"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{99: {sdk.PluginName: &sdk.GRPCPlugin{}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
