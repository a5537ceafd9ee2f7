package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/plugins/argocd"
	"github.com/nexolab/lab/plugins/harbor"
	"github.com/nexolab/lab/plugins/ingress"
	"github.com/nexolab/lab/plugins/logging"
	"github.com/nexolab/lab/plugins/monitoring"
	nexoapps "github.com/nexolab/lab/plugins/nexo-apps"
)

// builtins are the first-party stacks this binary serves. lab is a multi-call binary:
// started as lab-plugin-<name> (make build links each name to lab), it is that stack's
// plugin process, so one file on disk and in the page cache carries lab and every
// first-party plugin, while each stack still runs in its own process. Third-party plugins
// stay binaries of their own.
var builtins = map[string]func(){
	"argocd":     func() { sdk.Serve(argocd.New) },
	"harbor":     func() { sdk.Serve(harbor.New) },
	"ingress":    func() { sdk.Serve(ingress.New) },
	"logging":    func() { sdk.Serve(logging.New) },
	"monitoring": func() { sdk.Serve(monitoring.New) },
	"nexo-apps":  func() { sdk.Serve(nexoapps.New) },
}

// servePlugin runs the plugin this process was started as, if it is a built-in one.
func servePlugin() bool {
	name, ok := strings.CutPrefix(filepath.Base(os.Args[0]), pluginhost.Prefix)
	serve := builtins[name]
	if !ok || serve == nil {
		return false
	}
	serve()
	return true
}
