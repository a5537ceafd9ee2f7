package nexoapps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/plugins/nexo-apps/charts"
)

// Version of this plugin.
var Version = "0.1.0"

type session = helmstack.Session[Config]

// New returns the nexo-apps stack.
func New() *helmstack.Stack[Config] {
	fixed, _ := kube.FootprintOf(containers(defaults()))
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{
			Name:        "nexo-apps",
			Version:     Version,
			Description: "the Nexo applications per environment with Keycloak, PostgreSQL 16 and Redis 7",
			// The host keeps only the stacks that are enabled.
			DependsOn:  []string{"ingress", "argocd", "monitoring", "harbor"},
			Namespaces: []string{"nexo-local", "nexo-qa", "nexo-staging", "nexo-prod", dataNamespace},
			Footprint:  fixed,
			Dashboards: map[string]string{"nexo": "develop", "keycloak": "develop.auth"},
		},
		Defaults:   defaults,
		Validate:   validate,
		Namespaces: namespacesOf,
		Prepare:    prepare,
		Releases: func(s *session) ([]helm.Release, error) {
			rels := dataReleases(s)
			if !byArgoCD(s) {
				rels = append(rels, appReleases(s)...)
			}
			return rels, nil
		},
		After: after,
		Objects: []helmstack.ObjectSet{{File: "secrets.yaml", Kind: "Secret", Namespace: dataNamespace,
			GVR:   schema.GroupVersionResource{Version: "v1", Resource: "secrets"},
			Names: []string{postgresSecret, usersSecret, redisSecret, adminSecret, clientsSecret}}},
		Data:      &helmstack.Data[Config]{Backup: backupData, Restore: restoreData},
		Checks:    checks,
		Endpoints: endpoints,
		Summary:   summary,
	})
}

// containers are what a config runs, for the footprint.
func containers(cfg *Config) []kube.Container {
	cs := []kube.Container{charts.Keycloak, charts.Postgres, charts.Redis}
	for _, e := range environments(cfg) {
		cs = append(cs, e.FE, e.BE)
	}
	return cs
}

func namespacesOf(cfg *Config) []helmstack.Namespace {
	var out []helmstack.Namespace
	for _, e := range environments(cfg) {
		q := quotaOf(e)
		out = append(out, helmstack.Namespace{Name: e.Namespace, Quota: &q})
	}
	// The shared services' namespace holds the volumes and the generated passwords.
	q := dataQuota
	return append(out, helmstack.Namespace{Name: dataNamespace, Quota: &q, Data: true})
}

// prepare finds where the charts and theme are and how the applications are delivered,
// removes environments no longer listed, and makes the Secrets and platform objects.
func prepare(ctx context.Context, s *session) error {
	dir, err := charts.Dir(helm.DefaultCache())
	if err != nil {
		return fmt.Errorf("embedded charts: %w", err)
	}
	s.Values["charts"] = dir
	theme, err := readTheme(s.Config.ThemesDir)
	if err != nil {
		return err
	}
	var files []any
	for _, k := range sortedKeys(theme) {
		files = append(files, strings.ReplaceAll(k, "__", "/"))
	}
	s.Values["themeFiles"] = files
	if err := detectDelivery(ctx, s); err != nil {
		return err
	}
	if s.DryRun || s.Kube == nil {
		return nil
	}
	if err := removeEnvironments(ctx, s); err != nil {
		return err
	}
	sec, err := ensureSecrets(ctx, s)
	if err != nil {
		return err
	}
	s.Values["secrets"] = sec
	if _, err := copyPullSecret(ctx, s); err != nil {
		return err
	}
	changed, err := applyPlatform(ctx, s, platform(s, sec, theme))
	if err != nil {
		return err
	}
	s.Values["changed"] = changed
	if err := provisionDatabases(ctx, s, sec); err != nil {
		return err
	}
	return switchDelivery(ctx, s)
}

// removeEnvironments deletes the namespaces of environments taken out of the list, with
// their releases; the databases of those environments stay in PostgreSQL.
func removeEnvironments(ctx context.Context, s *session) error {
	gone, err := removedEnvironments(ctx, s)
	if err != nil {
		return err
	}
	for _, ns := range gone {
		slot := strings.TrimPrefix(ns, "nexo-")
		for _, app := range []string{"nexo-be", "nexo-fe"} {
			if _, err := s.Helm.Uninstall(ctx, app+"-"+slot, ns); err != nil {
				return err
			}
		}
		if err := deleteApplications(ctx, s, slot); err != nil {
			return err
		}
		s.Req.Emit("environment", "environment of namespace %s is no longer listed: deleting the namespace (its database stays)", ns)
		if err := s.Kube.DeleteNamespace(ctx, ns); err != nil {
			return err
		}
		s.Values["changed"] = true
	}
	return nil
}

func after(ctx context.Context, s *session) (bool, error) {
	changed, _ := s.Values["changed"].(bool)
	if byArgoCD(s) {
		ch, err := applyApplications(ctx, s)
		if err != nil {
			return changed, err
		}
		changed = changed || ch
	}
	if s.Simulated() {
		s.Req.Emit("realm", "simulated cluster: no Keycloak runs; the realm is imported and kept in step on a real cluster")
		return changed, nil
	}
	ch, err := syncRealm(ctx, s, s.Values["secrets"].(*secrets))
	return changed || ch, err
}

// readTheme reads a Keycloak theme folder into ConfigMap keys: each file's path with "/"
// written as "__".
func readTheme(dir string) (map[string]string, error) {
	if dir == "" {
		return nil, nil
	}
	out := map[string]string{}
	size := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		size += len(b)
		out[strings.ReplaceAll(filepath.ToSlash(rel), "/", "__")] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("themes_dir: %w", err)
	}
	if size > 900<<10 {
		return nil, fmt.Errorf("themes_dir: %s holds %d KiB; a theme served from a ConfigMap must stay under 900 KiB", dir, size>>10)
	}
	return out, nil
}

func endpoints(s *session) []sdk.Endpoint {
	d := s.Req.Lab.Domain
	var out []sdk.Endpoint
	for _, e := range environments(s.Config) {
		out = append(out,
			sdk.Endpoint{Name: "nexo-fe " + e.Name, URL: "http://" + e.FEHost(d)},
			sdk.Endpoint{Name: "nexo-be " + e.Name, URL: "http://" + e.APIHost(d)},
			sdk.Endpoint{Name: "keycloak " + e.Name, URL: "http://" + e.AuthHost(d) + "/realms/" + realmName})
	}
	return out
}

func summary(s *session, rels []sdk.Release) string {
	how := "Helm"
	if byArgoCD(s) {
		how = "Argo CD Applications"
	}
	return fmt.Sprintf("environments %s delivered by %s; PostgreSQL, Redis and Keycloak in %s (%d releases)",
		strings.Join(s.Config.Environments, ", "), how, dataNamespace, len(rels))
}
