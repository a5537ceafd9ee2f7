package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The day-two commands against a running lab: status, top, hosts, troubleshoot.
func TestDayTwo(t *testing.T) {
	ctx := context.Background()
	l := newLab(t, header("daytwo.local")+ingressBlock("traefik"))
	t.Cleanup(func() { l.run("destroy", "--yes") })
	l.ok("apply")

	st := l.ok("status")
	assert.Regexp(t, `ingress\s+true\s+installed\s+0\.1\.0\s+\S+ \S+\s+traefik@1`, st.stdout)

	top := l.ok("top")
	assert.Regexp(t, `ingress\s+300m/1\s+1500m/3\s+288Mi/1Gi\s+768Mi/3Gi`, top.stdout, "the 3 controllers against the ingress quota")

	// Every ingress host under the lab's domain goes into the managed block; others not.
	ing := &netv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: netv1.IngressSpec{Rules: []netv1.IngressRule{{Host: "web.daytwo.local"}, {Host: "elsewhere.example"}}}}
	_, err := client(t).Kube.NetworkingV1().Ingresses("default").Create(ctx, ing, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client(t).Kube.NetworkingV1().Ingresses("default").Delete(ctx, "web", metav1.DeleteOptions{})
	})
	hostsFile := filepath.Join(l.dir, "hosts")
	require.NoError(t, os.WriteFile(hostsFile, []byte("127.0.0.1 localhost\n"), 0o644))
	l.ok("hosts", "sync", "--hosts-file", hostsFile)
	b, err := os.ReadFile(hostsFile)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1 localhost\n# BEGIN lab e2e (managed by lab hosts; edits inside are replaced)\n127.0.0.1\tweb.daytwo.local\n# END lab e2e\n", string(b))
	assert.Equal(t, "127.0.0.1\tweb.daytwo.local\n", l.ok("hosts", "show", "--hosts-file", hostsFile).stdout)
	l.ok("hosts", "remove", "--hosts-file", hostsFile)
	b, _ = os.ReadFile(hostsFile)
	assert.Equal(t, "127.0.0.1 localhost\n", string(b))

	archive := filepath.Join(l.dir, "diag.tar.gz")
	l.ok("troubleshoot", "--to", archive)
	out, err := exec.Command("tar", "tzf", archive).Output()
	require.NoError(t, err)
	for _, f := range []string{"manifest.json", "troubleshoot/lab.hcl", "troubleshoot/plan.json", "troubleshoot/status.json",
		"troubleshoot/health.json", "troubleshoot/warning-events.txt", "troubleshoot/unready-pods.txt"} {
		assert.Contains(t, string(out), f)
	}

	// On kwok no container runs, so there are no logs: the error names the pod.
	r := l.run("logs", "traefik", "-n", "ingress")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "logs of traefik-")
}
