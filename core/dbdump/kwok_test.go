package dbdump

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/cluster/kwok"
	"github.com/nexolab/lab/core/dbdump/dbtest"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/kube/podexec"
	"github.com/nexolab/lab/core/testenv"
)

// No container runs on kwok, but kwok answers a pod's exec and port-forward itself when
// its configuration says how: ClusterExec runs the command on this machine, and
// ClusterPortForward connects the pod's port to a local address. The bytes still go
// the whole way a real cluster's do: client-go (websocket, or SPDY) to the real
// kube-apiserver, which proxies to the node's kubelet endpoint (kwok). So the tests
// below drive pg_dump, pg_restore and Redis through the API server.

const apiNamespace = "nexo-local"

var api struct {
	once      sync.Once
	client    *kube.Client
	redisPort int // pod port 6379 of any pod forwards here
	skip      string
	stop      func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if api.stop != nil {
		api.stop()
	}
	os.Exit(code)
}

// apiCluster starts, once per test run, a kwok cluster configured as above.
func apiCluster(t *testing.T) *kube.Client {
	t.Helper()
	api.once.Do(func() { api.skip = startAPICluster() })
	if api.skip != "" {
		t.Skip(api.skip)
	}
	return api.client
}

func startAPICluster() string {
	bin := kwok.DefaultBinDir()
	if _, err := os.Stat(filepath.Join(bin, "kwokctl")); err != nil {
		return "kwok test cluster binaries missing in " + bin + ": make testbin"
	}
	var err error
	if api.redisPort, err = dbtest.FreePort(); err != nil {
		return err.Error()
	}
	c, err := testenv.StartKwokWith(1, kwokRules(api.redisPort))
	if err != nil {
		panic(fmt.Sprintf("kwok cluster: %v", err)) // binaries present: a failure, not a skip
	}
	api.stop = c.Stop
	if api.client, err = kube.Connect(c.Conn, nil); err != nil {
		panic(err)
	}
	return ""
}

func kwokRules(redisPort int) string {
	return fmt.Sprintf(`kind: ClusterExec
apiVersion: kwok.x-k8s.io/v1alpha1
metadata:
  name: run-on-this-machine
spec:
  execs:
  - local:
      envs:
      - name: PATH
        value: %s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
---
kind: ClusterPortForward
apiVersion: kwok.x-k8s.io/v1alpha1
metadata:
  name: redis-here
spec:
  forwards:
  - ports: [6379]
    target:
      port: %d
      address: 127.0.0.1
`, dbtest.PostgresBin(), redisPort)
}

// apiPod creates a Running pod with one container and returns its runner.
func apiPod(t *testing.T, c *kube.Client, name, container string) podexec.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: apiNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: apiNamespace},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: container, Image: "docker.io/library/" + container + ":16"}}},
	}
	// A new namespace gets its default ServiceAccount shortly after; pods wait for it.
	for {
		_, err := c.Kube.CoreV1().Pods(apiNamespace).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("create pod %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		p, err := c.Kube.CoreV1().Pods(apiNamespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("pod %s not Running within a minute", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return podexec.Pod{Config: c.Config, Kube: c.Kube, Namespace: apiNamespace, Name: name, Container: container, Timeout: 2 * time.Minute}
}

// kwokStdin works around kwok v0.8.0's exec, which never closes a command's stdin (its
// pkg/utils/exec copies the stream into StdinPipe and leaves the pipe open), so a
// command reading to EOF (psql -f -, pg_restore, cat) would wait forever there. A real
// kubelet closes it. The input is read ahead and the command gets exactly that many
// bytes through `head -c`, then EOF; everything still goes through the API server.
type kwokStdin struct{ podexec.Runner }

func (k kwokStdin) Run(ctx context.Context, cmd podexec.Command) error {
	if cmd.Stdin == nil {
		return k.Runner.Run(ctx, cmd)
	}
	b, err := io.ReadAll(cmd.Stdin)
	if err != nil {
		return err
	}
	cmd.Args = append([]string{"sh", "-c", `head -c "$0" | exec "$@"`, strconv.Itoa(len(b))}, cmd.Args...)
	cmd.Stdin = bytes.NewReader(b)
	return k.Runner.Run(ctx, cmd)
}
