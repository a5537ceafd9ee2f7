package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

var chart = kube.Chart{Repository: "https://argoproj.github.io/argo-helm", Name: "argo-cd", Version: "10.1.1"}

// quota is the argocd row of the architecture document's resource table.
var quota = kube.Quota{RequestsCPU: "500m", RequestsMemory: "512Mi", LimitsCPU: "2", LimitsMemory: "2Gi"}

// component is one container of the chart and the resources lab gives it.
type component struct {
	// path is where the chart reads the container's resources block, under "resources".
	path           []string
	reqCPU, reqMem string
	limCPU, limMem string
	// steady is false for containers that do not run alongside the others: the
	// pre-install/pre-upgrade hook Job (done before the rollout starts) and the repo
	// server's init container (smaller than the repo server, so it adds nothing).
	steady bool
	// surge is true for a Deployment that rolls out a new pod before removing the old one
	// (RollingUpdate with the chart's default maxSurge of one pod at one replica). The
	// application controller is a StatefulSet and the notifications controller is Recreate.
	surge bool
}

// components: the running pods request 250m/328Mi with limits of 1300m/1344Mi. During an
// upgrade every RollingUpdate Deployment may have its extra pod at the same time, which
// adds 130m/168Mi and 700m/704Mi: that still fits the quota (500m/512Mi, 2/2Gi), so no pod
// of an upgrade is refused. Dex is disabled; the redis exporter, server extensions and
// commit server are off by default.
var components = []component{
	{path: []string{"controller"}, reqCPU: "100m", reqMem: "128Mi", limCPU: "500m", limMem: "512Mi", steady: true},
	{path: []string{"server"}, reqCPU: "40m", reqMem: "48Mi", limCPU: "200m", limMem: "192Mi", steady: true, surge: true},
	{path: []string{"repoServer"}, reqCPU: "50m", reqMem: "64Mi", limCPU: "300m", limMem: "256Mi", steady: true, surge: true},
	{path: []string{"repoServer", "copyutil"}, reqCPU: "10m", reqMem: "32Mi", limCPU: "100m", limMem: "64Mi"},
	{path: []string{"applicationSet"}, reqCPU: "20m", reqMem: "32Mi", limCPU: "100m", limMem: "128Mi", steady: true, surge: true},
	{path: []string{"notifications"}, reqCPU: "20m", reqMem: "32Mi", limCPU: "100m", limMem: "128Mi", steady: true},
	{path: []string{"redis"}, reqCPU: "20m", reqMem: "24Mi", limCPU: "100m", limMem: "128Mi", steady: true, surge: true},
	{path: []string{"redisSecretInit"}, reqCPU: "10m", reqMem: "32Mi", limCPU: "100m", limMem: "64Mi"},
}

func (c component) resources() map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": c.reqCPU, "memory": c.reqMem},
		"limits":   map[string]any{"cpu": c.limCPU, "memory": c.limMem},
	}
}

// footprint is what the running containers request and may use at most.
func footprint() sdk.Footprint {
	var f sdk.Footprint
	for _, c := range components {
		if !c.steady {
			continue
		}
		f.CPURequestMillis += milli(c.reqCPU)
		f.MemoryRequestBytes += bytesOf(c.reqMem)
		f.CPULimitMillis += milli(c.limCPU)
		f.MemoryLimitBytes += bytesOf(c.limMem)
	}
	return f
}

func milli(q string) int64 {
	v := resource.MustParse(q)
	return v.MilliValue()
}

func bytesOf(q string) int64 {
	v := resource.MustParse(q)
	return v.Value()
}

// admin is the admin password as Argo CD wants it: a bcrypt hash and when it was set.
type admin struct {
	hash, mtime string
}

const (
	// adminSecret holds the admin login (read by `lab credentials`) and its bcrypt hash.
	adminSecret = "lab-argocd-admin"
	hashKey     = "bcrypt"
	mtimeKey    = "mtime"
)

// ensureAdmin returns the admin password's hash, generating the password on the first
// install. A bcrypt hash differs on every run, so the hash and its time are stored next to
// the password and reused: the chart's values stay the same and a re-apply is a no-op. A
// hash that no longer matches the password (someone changed the Secret) is made again.
func ensureAdmin(ctx context.Context, c *kube.Client, req *sdk.Request) (admin, error) {
	cred, err := c.EnsureCredential(ctx, stackName, "argocd", namespace, adminSecret, endpoint(req), "admin")
	if err != nil {
		return admin{}, err
	}
	secrets := c.Kube.CoreV1().Secrets(namespace)
	s, err := secrets.Get(ctx, adminSecret, metav1.GetOptions{})
	if err != nil {
		return admin{}, fmt.Errorf("secret %s/%s: %w", namespace, adminSecret, err)
	}
	a := admin{hash: string(s.Data[hashKey]), mtime: string(s.Data[mtimeKey])}
	if a.mtime != "" && bcrypt.CompareHashAndPassword([]byte(a.hash), []byte(cred.Password)) == nil {
		return a, nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(cred.Password), bcrypt.DefaultCost)
	if err != nil {
		return admin{}, err
	}
	a = admin{hash: string(h), mtime: time.Now().UTC().Format("2006-01-02T15:04:05Z")}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[hashKey], s.Data[mtimeKey] = []byte(a.hash), []byte(a.mtime)
	if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		return admin{}, fmt.Errorf("secret %s/%s: %w", namespace, adminSecret, err)
	}
	return a, nil
}

// currentAdmin reads the stored hash without creating anything, for Render; before the
// first install there is none and a placeholder stands in (masked in the output anyway).
func currentAdmin(ctx context.Context, req *sdk.Request) admin {
	placeholder := admin{hash: "(generated at install)", mtime: "(set at install)"}
	if len(req.Cluster.Kubeconfig) == 0 {
		return placeholder
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return placeholder
	}
	s, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, adminSecret, metav1.GetOptions{})
	if err != nil || len(s.Data[hashKey]) == 0 {
		return placeholder
	}
	return admin{hash: string(s.Data[hashKey]), mtime: string(s.Data[mtimeKey])}
}

// release is the Helm release the config asks for, with the user's chart overrides.
func release(cfg *Config, req *sdk.Request, adm admin) (kube.Release, error) {
	v, err := values(cfg, req, adm)
	if err != nil {
		return kube.Release{}, err
	}
	override := req.Charts[chart.Name]
	return kube.Release{
		Name:      releaseName,
		Namespace: namespace,
		Chart:     chart.Override(override),
		Values:    kube.Merge(v, override.Values),
		// argo-cd 10.1.1 ships its CRDs as templates (templates/crds/, behind crds.install),
		// so Helm upgrades them with the release and this applies nothing; it keeps CRDs
		// current should a chart version move them to crds/, which Helm never upgrades.
		UpgradeCRDs: true,
	}, nil
}

func values(cfg *Config, req *sdk.Request, adm admin) (map[string]any, error) {
	poll, err := cfg.poll()
	if err != nil {
		return nil, err
	}
	v := map[string]any{
		// global.domain makes argocd-cm's url and the server Ingress host.
		"global": map[string]any{"domain": host(req)},
		// keep: `helm uninstall` leaves the CRDs (and so every Application elsewhere) alone.
		"crds": map[string]any{"install": true, "keep": true},
		"configs": map[string]any{
			"cm": map[string]any{"timeout.reconciliation": poll},
			// TLS ends at the ingress; the server speaks plain HTTP behind it.
			"params": map[string]any{"server.insecure": true},
			"secret": map[string]any{
				"argocdServerAdminPassword":      adm.hash,
				"argocdServerAdminPasswordMtime": adm.mtime,
			},
		},
		"dex": map[string]any{"enabled": false},
		// No ingressClassName: the ingress stack's class is the cluster default.
		"server": map[string]any{"ingress": map[string]any{"enabled": true, "hostname": host(req)}},
	}
	for _, c := range components {
		m := v
		for _, k := range c.path {
			sub, ok := m[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		m["resources"] = c.resources()
	}
	return v, nil
}
