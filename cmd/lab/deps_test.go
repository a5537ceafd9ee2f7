package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The host does not link Helm: only plugins run it (core/helm), and its packages'
// initialisation cost every lab command 16 ms. A host package that imports core/helm, or
// Helm itself, fails here.
func TestHostDoesNotLinkHelm(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for pkg := range strings.Lines(string(out)) {
		if strings.HasPrefix(pkg, "helm.sh/") || strings.HasSuffix(strings.TrimSpace(pkg), "/core/helm") {
			t.Errorf("lab links %s", strings.TrimSpace(pkg))
		}
	}
}
