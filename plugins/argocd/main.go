// Command lab-plugin-argocd is the argocd stack of lab: Argo CD behind the ingress at
// argocd.<domain>, with the lab's Git repository, the nexo AppProject and one auto-synced
// Application per app path.
package main

import (
	"strings"

	"k8s.io/client-go/rest"

	"github.com/nexolab/lab/core/sdk"
)

func main() { sdk.Serve(New) }

// Argo CD's finalizer has no path, and the API server warns about it on every write of an
// Application; the name is Argo CD's, not lab's to change. Other warnings still show.
func init() {
	rest.SetDefaultWarningHandler(warnings{})
}

type warnings struct{}

func (warnings) HandleWarningHeader(code int, agent, text string) {
	if strings.Contains(text, cascadeFinalizer) {
		return
	}
	rest.WarningLogger{}.HandleWarningHeader(code, agent, text)
}
