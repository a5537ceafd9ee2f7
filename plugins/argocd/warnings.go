// Package argocd is the argocd stack of lab: Argo CD behind the ingress at
// argocd.<domain>, with the lab's Git repository and the nexo AppProject. It runs as the
// plugin lab-plugin-argocd, built into lab-plugins.
package argocd

import (
	"strings"

	"k8s.io/client-go/rest"
)

// quietFinalizer stops the warning Argo CD's finalizer brings: it has no path, and the API
// server warns about it on every write of an Application; the name is Argo CD's, not lab's to
// change. Other warnings still show. It is set when the plugin starts (New), not in an init
// function, because the binary that carries this package (lab-plugins) is every other
// first-party stack's plugin too.
func quietFinalizer() { rest.SetDefaultWarningHandler(warnings{}) }

type warnings struct{}

func (warnings) HandleWarningHeader(code int, agent, text string) {
	if strings.Contains(text, cascadeFinalizer) {
		return
	}
	rest.WarningLogger{}.HandleWarningHeader(code, agent, text)
}
