package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// api is a small client of the Kubernetes API: the stand-in needs a handful of calls and
// stays free of client-go, so it builds in seconds.
type api struct {
	base   string
	token  string
	client *http.Client
}

// adminAPI reaches the local API server with the admin certificate.
func adminAPI(p pki) (api, error) {
	cert, err := tls.LoadX509KeyPair(p.path("admin.crt"), p.path("admin.key"))
	if err != nil {
		return api{}, err
	}
	caPEM, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return api{}, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}}
	return api{base: "https://127.0.0.1:6443", client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}, nil
}

// tokenAPI reaches a server with the cluster token, as an agent does. Real k3s agents
// check the server's CA against a hash in the token; the stand-in skips that check.
func tokenAPI(base, token string) api {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	return api{base: strings.TrimSuffix(base, "/"), token: token, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

func (a api) do(ctx context.Context, method, path, ctype string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// register creates the Node of this container, or finds it made by an earlier start.
func (a api) register(ctx context.Context, node map[string]any) error {
	return a.create(ctx, "/api/v1/nodes", node)
}

// create posts an object to a collection; one that exists already is left as it is.
func (a api) create(ctx context.Context, collection string, obj map[string]any) error {
	code, body, err := a.do(ctx, http.MethodPost, collection, "application/json", obj)
	if err != nil {
		return err
	}
	if code == http.StatusCreated || code == http.StatusConflict {
		return nil
	}
	return fmt.Errorf("create in %s: HTTP %d: %s", collection, code, strings.TrimSpace(string(body)))
}

// setUnschedulable cordons or uncordons a node.
func (a api) setUnschedulable(ctx context.Context, name string, on bool) error {
	patch := map[string]any{"spec": map[string]any{"unschedulable": on}}
	code, body, err := a.do(ctx, http.MethodPatch, "/api/v1/nodes/"+name, "application/merge-patch+json", patch)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("node %s: HTTP %d: %s", name, code, strings.TrimSpace(string(body)))
	}
	return nil
}

// nodeObject is the Node of this container: the labels k3s gives its nodes plus the
// --node-label flags, the container's address, and its memory as k3d limits it (k3d
// mounts a /proc/meminfo that says so). The kwok annotation hands it to kwok, which keeps
// it Ready and runs its pods as simulated pods; lab reads it to know no container runs.
func nodeObject(name string, server bool, f flags) map[string]any {
	labels := map[string]string{
		"kubernetes.io/hostname":           name,
		"kubernetes.io/os":                 "linux",
		"kubernetes.io/arch":               runtime.GOARCH,
		"beta.kubernetes.io/os":            "linux",
		"beta.kubernetes.io/arch":          runtime.GOARCH,
		"node.kubernetes.io/instance-type": "k3s",
	}
	if server {
		labels["node-role.kubernetes.io/control-plane"] = "true"
		labels["node-role.kubernetes.io/master"] = "true"
	}
	for _, l := range f.NodeLabels {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	args, _ := json.Marshal(f.All)
	resources := map[string]string{
		"cpu":    strconv.Itoa(runtime.NumCPU()),
		"memory": strconv.FormatInt(memTotalKiB(), 10) + "Ki",
		"pods":   "110",
	}
	addresses := []map[string]string{{"type": "Hostname", "address": name}}
	if ips := localIPs(); len(ips) > 0 {
		addresses = append([]map[string]string{{"type": "InternalIP", "address": ips[0]}}, addresses...)
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata": map[string]any{
			"name":   name,
			"labels": labels,
			"annotations": map[string]string{
				"kwok.x-k8s.io/node":           "fake",
				"node.alpha.kubernetes.io/ttl": "0",
				"k3s.io/node-args":             string(args),
				"lab.nexolab.io/k3s-standin":   "true",
			},
		},
		"status": map[string]any{
			"capacity":    resources,
			"allocatable": resources,
			"addresses":   addresses,
			"nodeInfo": map[string]string{
				"kubeletVersion":          kubeVersion,
				"kubeProxyVersion":        kubeVersion,
				"operatingSystem":         "linux",
				"architecture":            runtime.GOARCH,
				"containerRuntimeVersion": "k3s-standin://none",
				"osImage":                 "k3s stand-in (tests only)",
			},
		},
	}
}

// kubeVersion is the version of the test cluster's binaries the image carries.
var kubeVersion = "v1.37.2"

// memTotalKiB reads MemTotal from /proc/meminfo.
func memTotalKiB() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			return n
		}
	}
	return 0
}

// localIPs are the container's IPv4 addresses, loopback excluded.
func localIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			out = append(out, n.IP.String())
		}
	}
	return out
}
