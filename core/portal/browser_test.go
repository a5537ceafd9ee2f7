package portal

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 2, &cluster) }

// FullScreenshot(100) is a PNG; lower qualities make a JPEG.
// artifacts is where a test leaves files for people to look at: $LAB_TEST_ARTIFACTS, or
// the test's artifact folder (kept with go test -artifacts).
func artifacts(t *testing.T) string {
	if dir := os.Getenv("LAB_TEST_ARTIFACTS"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	return t.ArtifactDir()
}

// labUI applies a kwok lab with the ingress stack through the real lab binary and plugin,
// then starts `lab ui` and returns the URL it printed.
func labUI(t *testing.T, ctx context.Context) (portalURL, home string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	require.NoError(t, testenv.Build(bin, "plugins/ingress"))
	dir := t.TempDir()
	hcl := fmt.Sprintf("lab \"portal\" {\n  domain = \"portal.local\"\n}\n%s\nstack \"ingress\" {\n  chart \"ingress-nginx\" {\n    repository = %q\n  }\n}\n",
		cluster.HCL(), testenv.ChartRepo(t, "ingress-nginx"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o644))
	home = filepath.Join(dir, "home")
	env := append(testenv.Env(bin, filepath.Join(dir, ".cache")), "HOME="+home)
	lab := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "lab"), args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	}
	out, err := lab(ctx, "apply").CombinedOutput()
	require.NoError(t, err, "lab apply:\n%s", out)

	ui := lab(ctx, "ui", "--no-open")
	stdout, err := ui.StdoutPipe()
	require.NoError(t, err)
	ui.Stderr = os.Stderr
	require.NoError(t, ui.Start())
	t.Cleanup(func() { _ = ui.Process.Signal(os.Interrupt); _ = ui.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-line:
		return u, home
	case <-time.After(2 * time.Minute):
		t.Fatal("lab ui printed no URL")
		return "", ""
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lab ui in headless Chromium: the stacks and their checks, a stack turned unhealthy in
// the cluster shown so without a reload, a password only on reveal and only with the
// token, and nothing answered without it.
func TestPortalInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not found (Debian: apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	// A login as a stack records one (the ingress stack has none of its own).
	cred, err := c.EnsureCredential(ctx, "ingress", "dashboard", "default", "portal-login", "https://dashboard.portal.local", "admin")
	require.NoError(t, err)
	require.NotEmpty(t, cred.Password)

	portalURL, home := labUI(t, ctx)
	// apply made the lab CA (its key the user's alone) and gave the controller its certificate.
	st, err := os.Stat(filepath.Join(home, ".lab", "portal", "ca", "ca.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	published, err := c.Kube.CoreV1().Secrets("lab-system").Get(ctx, "lab-tls", metav1.GetOptions{})
	require.NoError(t, err)
	served, err := c.Kube.CoreV1().Secrets("ingress").Get(ctx, "lab-tls", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, published.Data["tls.crt"], served.Data["tls.crt"])
	u, err := url.Parse(portalURL)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname(), "only localhost")
	token := strings.Trim(u.Path, "/")
	require.Len(t, token, 48)

	base := "http://" + u.Host
	for _, path := range []string{"/", "/live", "/reveal?ui=dashboard", "/static/portal.js", "/" + token[:47] + "x/reveal?ui=dashboard"} {
		code, body := get(t, base+path)
		assert.Equal(t, http.StatusForbidden, code, path)
		assert.NotContains(t, body, cred.Password, path)
	}
	code, body := get(t, portalURL+"reveal?ui=dashboard")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, cred.Password, body, "reveal with the token")

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1600))...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	text := func(sel string) string {
		v, err := chromedp.Run(browser, chromedp.Text(sel))
		require.NoError(t, err, sel)
		return v
	}
	require.NoError(t, chromedp.Do(browser,
		chromedp.Navigate(portalURL),
		chromedp.WaitVisible(`#stack-ingress[data-status="healthy"]`),
	))
	stackText := text(`#stack-ingress`)
	for _, check := range []string{"controller rollout", "ingress class", "default certificate", "controller probe"} {
		assert.Contains(t, stackText, check)
	}
	html, err := chromedp.Run(browser, chromedp.OuterHTML(`html`))
	require.NoError(t, err)
	assert.Contains(t, html, "dashboard")
	assert.Contains(t, text(`#trust`), "not trusted by this machine: run lab trust")
	assert.Contains(t, text(`#hosts`), "no Ingress serves a lab host yet")
	assert.NotContains(t, html, cred.Password, "masked until revealed")
	_, err = chromedp.Run(browser, chromedp.Evaluate[string](`window.labMarker = "same page"`))
	require.NoError(t, err)

	require.NoError(t, chromedp.Do(browser,
		chromedp.Click(`#reveal-dashboard`),
		chromedp.WaitVisible(`#pw-dashboard.shown`),
	))
	assert.Equal(t, cred.Password, text(`#pw-dashboard`))

	// The controller goes away in the cluster: the open page turns the stack unhealthy.
	require.NoError(t, c.Kube.AppsV1().DaemonSets("ingress").Delete(ctx, "ingress-nginx-controller", metav1.DeleteOptions{}))
	require.NoError(t, chromedp.Do(browser, chromedp.WaitVisible(
		`#stack-ingress[data-status="unhealthy"] li[data-check="controller rollout"][data-status="unhealthy"]`)))
	rollout := text(`#stack-ingress li[data-check="controller rollout"]`)
	after, err := chromedp.Run(browser, chromedp.Evaluate[string](`window.labMarker`))
	require.NoError(t, err)
	png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	assert.Equal(t, "same page", after, "updated without a reload")
	assert.Contains(t, rollout, "daemonset ingress/ingress-nginx-controller (missing)")
	shot := filepath.Join(artifacts(t), "portal.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot: %s", shot)
}
