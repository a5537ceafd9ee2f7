package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
)

var chart = helm.Chart{Repository: "https://argoproj.github.io/argo-helm", Name: "argo-cd", Version: "10.1.1"}

// quota is the argocd row of the README's quota table.
var quota = kube.Quota{RequestsCPU: "500m", RequestsMemory: "512Mi", LimitsCPU: "2", LimitsMemory: "2Gi"}

// containers of the chart, named as in its pods. The running pods request 250m/328Mi with
// limits of 1300m/1344Mi. The pre-install/pre-upgrade hook Job (done before the rollout
// starts) and the repo server's init container (smaller than the repo server) run alone,
// so they add nothing. Dex is disabled; the redis exporter, server extensions and commit
// server are off by default.
var containers = []kube.Container{
	{Name: "application-controller", Path: []string{"controller"}, Replicas: 1, CPU: "100m", Memory: "128Mi", CPULimit: "500m", MemoryLimit: "512Mi"},
	{Name: "server", Path: []string{"server"}, Replicas: 1, CPU: "40m", Memory: "48Mi", CPULimit: "200m", MemoryLimit: "192Mi"},
	{Name: "repo-server", Path: []string{"repoServer"}, Replicas: 1, CPU: "50m", Memory: "64Mi", CPULimit: "300m", MemoryLimit: "256Mi"},
	{Name: "copyutil", Path: []string{"repoServer", "copyutil"}, CPU: "10m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "64Mi"},
	{Name: "applicationset-controller", Path: []string{"applicationSet"}, Replicas: 1, CPU: "20m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "128Mi"},
	{Name: "notifications-controller", Path: []string{"notifications"}, Replicas: 1, CPU: "20m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "128Mi"},
	{Name: "redis", Path: []string{"redis"}, Replicas: 1, CPU: "20m", Memory: "24Mi", CPULimit: "100m", MemoryLimit: "128Mi"},
	{Name: "secret-init", Path: []string{"redisSecretInit"}, CPU: "10m", Memory: "32Mi", CPULimit: "100m", MemoryLimit: "64Mi"},
}

// surging are the containers of the Deployments that roll out a new pod before removing
// the old one (RollingUpdate with the chart's maxSurge of one pod at one replica); the
// application controller is a StatefulSet and the notifications controller is Recreate.
// Every one of them may have its extra pod at once during an upgrade, which adds
// 130m/168Mi and 700m/704Mi: that still fits the quota, so no pod of an upgrade is refused.
var surging = []string{"server", "repo-server", "applicationset-controller", "redis"}

// rollouts are the components, found by the name label the upstream chart gives them.
// The application controller is a StatefulSet, or a Deployment with
// controller.dynamicClusterDistribution: the check takes either.
var rollouts = []helmstack.Rollout{
	{Check: "server", Name: "argocd-server"},
	{Check: "repo-server", Name: "argocd-repo-server"},
	{Check: "application controller", Name: "argocd-application-controller"},
	{Check: "applicationset controller", Name: "argocd-applicationset-controller"},
	{Check: "notifications controller", Name: "argocd-notifications-controller"},
	{Check: "redis", Name: "argocd-redis"},
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
// While rendering it only reads: before the first install the hash is a placeholder.
func ensureAdmin(ctx context.Context, s *session) (admin, error) {
	if s.DryRun {
		data, err := s.Secret(ctx, namespace, adminSecret, map[string]kube.Generator{hashKey: nil, mtimeKey: nil})
		return admin{hash: string(data[hashKey]), mtime: string(data[mtimeKey])}, err
	}
	cred, err := s.Credential(ctx, "argocd", namespace, adminSecret, endpoint(s), "admin")
	if err != nil {
		return admin{}, err
	}
	data, err := s.Secret(ctx, namespace, adminSecret, nil)
	if err != nil {
		return admin{}, err
	}
	a := admin{hash: string(data[hashKey]), mtime: string(data[mtimeKey])}
	if a.mtime != "" && bcrypt.CompareHashAndPassword([]byte(a.hash), []byte(cred.Password)) == nil {
		return a, nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(cred.Password), bcrypt.DefaultCost)
	if err != nil {
		return admin{}, err
	}
	a = admin{hash: string(h), mtime: time.Now().UTC().Format("2006-01-02T15:04:05Z")}
	patch, err := json.Marshal(map[string]any{"data": map[string][]byte{hashKey: h, mtimeKey: []byte(a.mtime)}})
	if err != nil {
		return admin{}, err
	}
	_, err = s.Kube.Kube.CoreV1().Secrets(namespace).Patch(ctx, adminSecret, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return admin{}, fmt.Errorf("secret %s/%s: %w", namespace, adminSecret, err)
	}
	return a, nil
}

// releases is the one Helm release of Argo CD.
func releases(s *session) ([]helm.Release, error) {
	adm, _ := s.Values[adminValue].(admin)
	v, err := values(s.Config, s.Host("argocd"), adm)
	if err != nil {
		return nil, err
	}
	return []helm.Release{{
		Name:      releaseName,
		Namespace: namespace,
		Chart:     chart,
		Values:    v,
		// argo-cd 10.1.1 ships its CRDs as templates (templates/crds/, behind crds.install),
		// which lab applies before each install or upgrade of the release, so this applies
		// nothing; it keeps CRDs current should a chart version move them to crds/, which
		// Helm never upgrades.
		UpgradeCRDs: true,
	}}, nil
}

func values(cfg *Config, host string, adm admin) (map[string]any, error) {
	poll, err := reconciliation(cfg.PollInterval)
	if err != nil {
		return nil, fmt.Errorf("poll_interval %w", err)
	}
	v := map[string]any{
		// global.domain makes argocd-cm's url and the server Ingress host.
		"global": map[string]any{"domain": host},
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
		"server": map[string]any{"ingress": map[string]any{"enabled": true, "hostname": host}},
	}
	kube.SetResources(v, containers)
	return v, nil
}
