package podexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

// Pod runs commands in one container of a pod through the API server's exec.
//
// Kubernetes' exec has no environment of its own, so a Command with Env runs as
// `sh -c <script> sh ARGS...`: the script reads NAME=value lines from stdin up to an
// empty line, exports them and execs ARGS, which then read the rest of stdin. A
// password thus never appears in a process list; the container needs a POSIX sh.
type Pod struct {
	Config    *rest.Config
	Kube      kubernetes.Interface
	Namespace string
	Name      string
	Container string        // "" is the pod's only (or default) container
	Timeout   time.Duration // DefaultTimeout when zero
}

func (p Pod) where() string {
	w := "pod " + p.Namespace + "/" + p.Name
	if p.Container != "" {
		w += " container " + p.Container
	}
	return w
}

// Run runs cmd in the container; it returns when the command has exited and its output
// has been copied, or when ctx or the timeout ends it.
func (p Pod) Run(ctx context.Context, cmd Command) error {
	if err := check(cmd); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(p.Timeout))
	defer cancel()
	args, stdin := withEnv(cmd)
	ex, err := p.executor(args, stdin != nil)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", p.where(), cmd.Args[0], err)
	}
	tail := &tailBuffer{max: stderrTail}
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{
		Stdin: stdin, Stdout: orDiscard(cmd.Stdout), Stderr: teeTail(cmd.Stderr, tail),
	})
	if err == nil {
		return nil
	}
	code := -1
	var ce utilexec.CodeExitError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return &ExitError{Where: p.where(), Args: cmd.Args, Code: code, Stderr: tail.String(), Err: err}
}

// execURL is the exec subresource request of args.
func (p Pod) execURL(args []string, stdin bool) *url.URL {
	return p.Kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(p.Namespace).Name(p.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: p.Container, Command: args,
			Stdin: stdin, Stdout: true, Stderr: true,
		}, scheme.ParameterCodec).URL()
}

// executor prefers the websocket protocol (Kubernetes 1.30 and later) and falls back
// to SPDY when the server does not upgrade, as kubectl does.
func (p Pod) executor(args []string, stdin bool) (remotecommand.Executor, error) {
	u := p.execURL(args, stdin)
	ws, err := remotecommand.NewWebSocketExecutor(p.Config, http.MethodGet, u.String())
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(p.Config, http.MethodPost, u)
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// envScript reads NAME=value lines until an empty one, exports them and runs "$@".
const envScript = `while IFS= read -r kv && [ -n "$kv" ]; do export "$kv"; done; exec "$@"`

// withEnv returns the arguments and stdin that carry cmd.Env into a container.
func withEnv(cmd Command) ([]string, io.Reader) {
	if len(cmd.Env) == 0 {
		return cmd.Args, cmd.Stdin
	}
	keys := make([]string, 0, len(cmd.Env))
	for k := range cmd.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var head strings.Builder
	for _, k := range keys {
		head.WriteString(k + "=" + cmd.Env[k] + "\n")
	}
	head.WriteString("\n")
	stdin := cmd.Stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	args := append([]string{"sh", "-c", envScript, "sh"}, cmd.Args...)
	return args, io.MultiReader(strings.NewReader(head.String()), stdin)
}
