// Command lab-plugins is the first-party stacks' plugin binary. It is a multi-call binary:
// make build links each lab-plugin-<name> to it, and started under that name it is that
// stack's plugin process. One file on disk and in the page cache carries every first-party
// plugin, while each stack still runs in its own process. It is not the lab binary: a
// plugin then initialises and maps none of the host's own packages (the k3d provider and
// its Docker client, HCL, the CLI), which cost every plugin launch 15 to 20 ms and each
// plugin process 6 to 9 MB of mapped binary. Third-party plugins are binaries of their own.
package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nexolab/lab/core/pluginhost"
	"github.com/nexolab/lab/core/process"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/plugins/argocd"
	"github.com/nexolab/lab/plugins/harbor"
	"github.com/nexolab/lab/plugins/ingress"
	"github.com/nexolab/lab/plugins/logging"
	"github.com/nexolab/lab/plugins/monitoring"
	nexoapps "github.com/nexolab/lab/plugins/nexo-apps"
)

var stacks = map[string]func(){
	"argocd":     func() { sdk.Serve(argocd.New) },
	"harbor":     func() { sdk.Serve(harbor.New) },
	"ingress":    func() { sdk.Serve(ingress.New) },
	"logging":    func() { sdk.Serve(logging.New) },
	"monitoring": func() { sdk.Serve(monitoring.New) },
	"nexo-apps":  func() { sdk.Serve(nexoapps.New) },
}

func main() {
	process.DropInitPages()
	process.Collect()
	name, _ := strings.CutPrefix(filepath.Base(os.Args[0]), pluginhost.Prefix)
	serve, ok := stacks[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "lab-plugins: started as %q; lab starts it as %s<stack>, one of %s\n",
			filepath.Base(os.Args[0]), pluginhost.Prefix, strings.Join(slices.Sorted(maps.Keys(stacks)), ", "))
		os.Exit(2)
	}
	serve()
}
