package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Where k3s keeps its state and writes its kubeconfig; k3d reads and rewrites these paths.
const (
	serverDir      = "/var/lib/rancher/k3s/server"
	manifestsDir   = serverDir + "/manifests"
	k3sKubeconfig  = "/etc/rancher/k3s/k3s.yaml"
	binDir         = "/usr/local/bin"
	apiReadyWithin = 3 * time.Minute
	stopGrace      = 10 * time.Second
)

// server runs the control plane until Docker stops the container.
func server(f flags) error {
	logf("info", "Starting k3s stand-in server (tests only: a real control plane, nodes simulated by kwok) with %s", strings.Join(f.All, " "))
	hostname, _ := os.Hostname()
	p := pki{dir: filepath.Join(serverDir, "tls")}
	hosts := append([]string{"localhost", "127.0.0.1", hostname, "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.43.0.1"}, localIPs()...)
	if err := p.ensure(append(hosts, f.TLSSANs...)); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	if err := writeServerFiles(p); err != nil {
		return err
	}
	sup := &supervisor{}
	defer sup.stop()
	for _, c := range components(p) {
		if c.name == "kube-apiserver" {
			logf("info", "Running kube-apiserver %s", strings.Join(c.args, " "))
		}
		if err := sup.start(c); err != nil {
			return err
		}
		if c.name == "etcd" {
			// k3d waits for this line from the first server of a multi-server cluster.
			logf("info", "Containerd is now running (stand-in: no containerd; etcd started)")
		}
	}
	a, err := adminAPI(p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiReadyWithin)
	defer cancel()
	if err := waitReady(ctx, a, sup); err != nil {
		return err
	}
	if err := retry(ctx, func() error { return a.register(ctx, nodeObject(hostname, true, f)) }); err != nil {
		return err
	}
	if err := retry(ctx, func() error { return a.create(ctx, "/apis/storage.k8s.io/v1/storageclasses", localPathClass) }); err != nil {
		return err
	}
	logf("info", "k3s is up and running")
	if err := writeCoreDNSManifest(); err != nil {
		return err
	}
	logf("info", "Cluster dns configmap has been set successfully (stand-in: the manifest is kept, not applied)")
	select {
	case s := <-stopSignal():
		logf("info", "Received %s, stopping the control plane", s)
		return nil
	case err := <-sup.exited:
		return err
	}
}

// writeServerFiles writes the token file the API server authenticates agents with and
// the admin kubeconfig, at k3s's path and where K3S_KUBECONFIG_OUTPUT says (k3d reads that).
func writeServerFiles(p pki) error {
	token := os.Getenv("K3S_TOKEN")
	if token == "" {
		return fmt.Errorf("K3S_TOKEN is not set (k3d sets it on every node)")
	}
	// Agents authenticate with the cluster token; the stand-in gives them admin rights,
	// where real k3s gives each kubelet its own certificate.
	if err := os.WriteFile(filepath.Join(serverDir, "token.csv"), []byte(token+",k3s-standin-agent,k3s-standin-agent,system:masters\n"), 0o600); err != nil {
		return err
	}
	kc, err := kubeconfig(p, "https://127.0.0.1:6443")
	if err != nil {
		return err
	}
	outs := []string{k3sKubeconfig}
	if o := os.Getenv("K3S_KUBECONFIG_OUTPUT"); o != "" {
		outs = append(outs, o)
	}
	for _, o := range outs {
		if err := os.MkdirAll(filepath.Dir(o), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o, kc, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// kubeconfig is k3s's admin kubeconfig: cluster, user and context all named "default",
// which k3d renames to its cluster's name.
func kubeconfig(p pki, server string) ([]byte, error) {
	var data [3]string
	for i, f := range []string{"ca.crt", "admin.crt", "admin.key"} {
		b, err := os.ReadFile(p.path(f))
		if err != nil {
			return nil, err
		}
		data[i] = base64.StdEncoding.EncodeToString(b)
	}
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: default
  cluster:
    certificate-authority-data: %s
    server: %s
users:
- name: default
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: default
  context:
    cluster: default
    user: default
current-context: default
`, data[0], server, data[1], data[2])), nil
}

// writeCoreDNSManifest leaves the CoreDNS manifest k3d rewrites with the cluster's hosts.
func writeCoreDNSManifest() error {
	path := filepath.Join(manifestsDir, "coredns.yaml")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(manifestsDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  NodeHosts: ""
`), 0o644)
}

// localPathClass is the default StorageClass k3s deploys with its local-path provisioner;
// kwok binds its claims (see the stages of build.sh).
var localPathClass = map[string]any{
	"apiVersion": "storage.k8s.io/v1",
	"kind":       "StorageClass",
	"metadata": map[string]any{
		"name":        "local-path",
		"annotations": map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
	},
	"provisioner":       "rancher.io/local-path",
	"reclaimPolicy":     "Delete",
	"volumeBindingMode": "WaitForFirstConsumer",
}

type component struct {
	name string
	args []string
}

// components are the control plane's processes, in start order.
func components(p pki) []component {
	kc := filepath.Join(serverDir, "cred", "admin.kubeconfig")
	if b, err := kubeconfig(p, "https://127.0.0.1:6443"); err == nil {
		_ = os.MkdirAll(filepath.Dir(kc), 0o700)
		_ = os.WriteFile(kc, b, 0o600)
	}
	advertise := "127.0.0.1"
	if ips := localIPs(); len(ips) > 0 {
		advertise = ips[0]
	}
	return []component{
		{"etcd", []string{"--name=standin", "--data-dir=" + filepath.Join(serverDir, "db", "etcd"),
			"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
			"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
			"--initial-cluster=standin=http://127.0.0.1:2380", "--unsafe-no-fsync", "--log-level=warn"}},
		{"kube-apiserver", []string{"--etcd-servers=http://127.0.0.1:2379", "--bind-address=0.0.0.0",
			"--secure-port=6443", "--advertise-address=" + advertise,
			"--tls-cert-file=" + p.path("serving.crt"), "--tls-private-key-file=" + p.path("serving.key"),
			"--client-ca-file=" + p.path("ca.crt"),
			"--service-account-key-file=" + p.path("sa.key"), "--service-account-signing-key-file=" + p.path("sa.key"),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-cluster-ip-range=10.43.0.0/16", "--authorization-mode=RBAC",
			"--token-auth-file=" + filepath.Join(serverDir, "token.csv"), "--allow-privileged=true"}},
		{"kube-controller-manager", []string{"--kubeconfig=" + kc, "--leader-elect=false",
			"--bind-address=127.0.0.1", "--root-ca-file=" + p.path("ca.crt"),
			"--service-account-private-key-file=" + p.path("sa.key"),
			"--cluster-signing-cert-file=" + p.path("ca.crt"), "--cluster-signing-key-file=" + p.path("ca.key"),
			// kwok renews the nodes' leases less often than a kubelet, as under kwokctl.
			"--node-monitor-period=25s", "--node-monitor-grace-period=3m20s"}},
		{"kube-scheduler", []string{"--kubeconfig=" + kc, "--leader-elect=false", "--bind-address=127.0.0.1"}},
		{"kwok", []string{"--kubeconfig=" + kc, "--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--cidr=10.42.0.0/16",
			"--node-ip=" + advertise, "--config=/etc/kwok/stages.yaml", "--node-lease-duration-seconds=200"}},
	}
}

// waitReady waits for the API server's /readyz, or for a component to die.
func waitReady(ctx context.Context, a api, sup *supervisor) error {
	for {
		code, body, err := a.do(ctx, http.MethodGet, "/readyz", "", nil)
		if err == nil && code == http.StatusOK {
			return nil
		}
		select {
		case err := <-sup.exited:
			return err
		case <-ctx.Done():
			return fmt.Errorf("the API server was not ready within %s: %v %s", apiReadyWithin, err, body)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func retry(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// supervisor runs the components; the first one to exit ends the server, and Docker's
// restart policy (k3d sets one) starts it again, as it would a crashed k3s.
type supervisor struct {
	procs  []proc
	exited chan error
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *supervisor) start(c component) error {
	if s.exited == nil {
		s.exited = make(chan error, 8)
	}
	logPath := filepath.Join("/var/log", "k3s-standin-"+c.name+".log")
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(binDir, c.name), c.args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	p := proc{cmd: cmd, done: make(chan struct{})}
	s.procs = append(s.procs, p)
	go func() {
		err := cmd.Wait()
		out.Close()
		close(p.done)
		s.exited <- fmt.Errorf("%s exited (%v); its log: %s\n%s", c.name, err, logPath, tail(logPath))
	}()
	return nil
}

// stop ends the components in reverse order, each within a grace period.
func (s *supervisor) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
