package argocd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Version of this plugin.
var Version = "0.1.0"

const (
	stackName = "argocd"
	// namespace and release of Argo CD. Fixed: the chart's CRDs belong to one release, and
	// the lab's quota table names it.
	namespace   = "argocd"
	releaseName = "argocd"
)

// Config is the argocd block of lab.hcl.
type Config struct {
	RepoURL          string `hcl:"repo_url" pattern:"^(https?://|ssh://|git@).+" doc:"Git repository the applications come from"`
	RepoUsername     string `hcl:"repo_username" doc:"user name for a private HTTPS repository (with repo_password_file or repo_password_env)"`
	RepoPasswordFile string `hcl:"repo_password_file" path:"true" doc:"file that holds the password or token of a private repository (relative to lab.hcl); the secret itself never goes in lab.hcl"`
	RepoPasswordEnv  string `hcl:"repo_password_env" env:"true" pattern:"^[A-Za-z_][A-Za-z0-9_]*$" doc:"name of the environment variable that holds the password or token of a private repository"`
	TargetRevision   string `hcl:"target_revision" doc:"branch, tag or commit the applications follow"`
	Project          string `hcl:"project" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"AppProject of the applications"`
	// Applications maps an Application name to its path in the repository. None by
	// default: the nexo-apps stack makes the Nexo applications.
	Applications         map[string]string `hcl:"applications" doc:"Applications to create: name => path in the repository; an Application removed from here is deleted (its workloads are left in place)"`
	DestinationNamespace string            `hcl:"destination_namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace the applications deploy into"`
	ProjectNamespaces    []string          `hcl:"project_namespaces" doc:"namespaces (globs such as nexo-*) the AppProject lets applications deploy into, besides destination_namespace; the nexo-apps stack's Applications deploy into every nexo-<environment> and nexo-data"`
	PollInterval         string            `hcl:"poll_interval" pattern:"^([0-9]+(s|m|h))+$" doc:"how often Argo CD polls the repository for changes (Go duration, e.g. 3m)"`
}

// Stack installs Argo CD and the lab's GitOps objects. Argo CD keeps no persistent data
// (its redis is a cache and the chart makes no volume), so nothing goes on the lab's data
// folder; its state is the objects of the backup table.
type Stack = helmstack.Stack[Config]

type session = helmstack.Session[Config]

// New returns the argocd stack.
func New() *Stack {
	quietFinalizer()
	fixed, _ := kube.FootprintOf(containers)
	return helmstack.New(helmstack.Spec[Config]{
		Info: sdk.Info{
			Name:        stackName,
			Version:     Version,
			Description: "Argo CD at argocd.<domain>, with the lab's Git repository, the nexo AppProject and auto-synced Applications",
			DependsOn:   []string{"ingress"},
			Namespaces:  []string{namespace},
			Footprint:   fixed,
			Dashboards:  map[string]string{"argocd": "https://argocd"},
		},
		Defaults: defaults,
		Validate: validate,
		Namespaces: func(*Config) []helmstack.Namespace {
			return []helmstack.Namespace{{Name: namespace, Quota: &quota}}
		},
		Inputs:   inputs,
		Prepare:  prepare,
		Releases: releases,
		// The AppProject and Applications need the chart's CRDs, so they come after it.
		After:    applyGitOps,
		Rollouts: rollouts,
		Checks:   checks,
		Endpoints: func(s *session) []sdk.Endpoint {
			return []sdk.Endpoint{{Name: "argocd", URL: endpoint(s)}}
		},
		Objects:   backupSets,
		CRDGroups: []string{"argoproj.io"},
		Teardown:  teardown,
		Summary:   summary,
	})
}

func defaults() *Config {
	return &Config{
		RepoURL:              "https://github.com/usuario/nexo",
		TargetRevision:       "HEAD",
		Project:              "nexo",
		Applications:         map[string]string{},
		DestinationNamespace: "nexo-local",
		ProjectNamespaces:    []string{"nexo-*"},
		PollInterval:         "3m",
	}
}

// validate holds the rules the schema cannot say, each at its attribute.
func validate(cfg *Config, _ *sdk.Request, d *sdk.Diagnostics) {
	if cfg.RepoURL == "" {
		d.Errorf("repo_url", "is empty: name the Git repository of the applications")
	}
	if cfg.RepoPasswordFile != "" && cfg.RepoPasswordEnv != "" {
		d.Errorf("repo_password_env", "set only one of repo_password_file and repo_password_env")
	}
	if (cfg.RepoPasswordFile != "" || cfg.RepoPasswordEnv != "") && cfg.RepoUsername == "" {
		d.Errorf("repo_username", "is required with a repository password or token")
	}
	if _, err := reconciliation(cfg.PollInterval); err != nil {
		d.Errorf("poll_interval", "%v", err)
	}
	for _, name := range appNames(cfg) {
		attr := "applications." + name
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			d.Errorf(attr, "application name %q: %s", name, strings.Join(msgs, "; "))
		}
		p := cfg.Applications[name]
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
			d.Errorf(attr, "application %q: path %q must be a relative path inside the repository", name, p)
		}
	}
}

// reconciliation is the repository polling interval as Argo CD's timeout.reconciliation
// wants it.
func reconciliation(interval string) (string, error) {
	d, err := time.ParseDuration(interval)
	if err != nil || d < 0 {
		return "", fmt.Errorf("%q: want a duration such as 3m", interval)
	}
	return fmt.Sprintf("%ds", int64(d/time.Second)), nil
}

func appNames(cfg *Config) []string {
	names := make([]string, 0, len(cfg.Applications))
	for n := range cfg.Applications {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// What Prepare finds, for the releases and the GitOps objects.
const (
	adminValue    = "admin"
	passwordValue = "repo-password"
)

// inputs reads the repository's password, so that a missing one stops the install before
// anything changes.
func inputs(s *session) error {
	pw, err := repoPassword(s.Config)
	s.Values[passwordValue] = pw
	return err
}

// prepare finds the admin password's hash.
func prepare(ctx context.Context, s *session) error {
	adm, err := ensureAdmin(ctx, s)
	if err != nil {
		return err
	}
	s.Values[adminValue] = adm
	return nil
}

// repoPassword reads the repository's password or token from the file or environment
// variable lab.hcl names; empty when the repository is public.
func repoPassword(cfg *Config) (string, error) {
	switch {
	case cfg.RepoPasswordFile != "":
		path := cfg.RepoPasswordFile
		if strings.HasPrefix(path, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				path = filepath.Join(home, path[2:])
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("repo_password_file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("repo_password_file %s is empty", cfg.RepoPasswordFile)
		}
		return pw, nil
	case cfg.RepoPasswordEnv != "":
		pw := os.Getenv(cfg.RepoPasswordEnv)
		if pw == "" {
			return "", fmt.Errorf("repo_password_env: environment variable %s is unset or empty", cfg.RepoPasswordEnv)
		}
		return pw, nil
	}
	return "", nil
}

func endpoint(s *session) string { return "https://" + s.Host("argocd") }

func summary(s *session, rels []sdk.Release) string {
	if len(rels) == 0 {
		return "Argo CD at " + endpoint(s)
	}
	return fmt.Sprintf("Argo CD at %s (release %s revision %d), %d applications from %s",
		endpoint(s), rels[0].Name, rels[0].Revision, len(s.Config.Applications), s.Config.RepoURL)
}
