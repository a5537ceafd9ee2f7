package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Version of this plugin.
var Version = "0.1.0"

const (
	stackName = "argocd"
	// namespace and release of Argo CD. Fixed: the chart's CRDs belong to one release, and
	// the architecture document gives Argo CD this namespace.
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
	// Applications maps an Application name to its path in the repository.
	Applications         map[string]string `hcl:"applications" doc:"Applications to create: name => path in the repository; an Application removed from here is deleted (its workloads are left in place)"`
	DestinationNamespace string            `hcl:"destination_namespace" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"namespace the applications deploy into"`
	PollInterval         string            `hcl:"poll_interval" pattern:"^([0-9]+(s|m|h))+$" doc:"how often Argo CD polls the repository for changes (Go duration, e.g. 3m)"`
}

// Stack installs Argo CD and the lab's GitOps objects. Argo CD keeps no persistent data
// (its redis is a cache and the chart makes no volume), so nothing goes on the lab's data
// folder; its state is the objects Backup writes out.
type Stack struct{}

// New returns the argocd stack.
func New() *Stack { return &Stack{} }

func (*Stack) Info() sdk.Info {
	return sdk.Info{
		Name:        stackName,
		Version:     Version,
		Description: "Argo CD at argocd.<domain>, with the lab's Git repository, the nexo AppProject and auto-synced Applications",
		DependsOn:   []string{"ingress"},
		Namespaces:  []string{namespace},
		Footprint:   footprint(),
		Dashboards:  map[string]string{"argocd": "https://argocd"},
	}
}

func (*Stack) Config() any {
	return &Config{
		RepoURL:        "https://github.com/usuario/nexo",
		TargetRevision: "HEAD",
		Project:        "nexo",
		Applications: map[string]string{
			"nexo-be-local":   "apps/nexo-be",
			"nexo-fe-local":   "apps/nexo-fe",
			"nexo-auth-local": "apps/nexo-auth",
		},
		DestinationNamespace: "nexo-local",
		PollInterval:         "3m",
	}
}

// config returns the request's config. sdk.DecodeConfig unmarshals a map attribute into
// the default map, which would keep default Applications the user removed; a map sent by
// the host replaces the default here.
func config(req *sdk.Request) (*Config, error) {
	cfg, ok := req.Config.(*Config)
	if !ok || cfg == nil {
		return nil, fmt.Errorf("config: got %T", req.Config)
	}
	if len(req.ConfigJSON) > 0 {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(req.ConfigJSON, &fields); err == nil {
			if raw, ok := fields["applications"]; ok && string(raw) != "null" {
				apps := map[string]string{}
				if err := json.Unmarshal(raw, &apps); err != nil {
					return nil, fmt.Errorf("config attribute \"applications\": %w", err)
				}
				cfg.Applications = apps
			}
		}
	}
	return cfg, cfg.validate()
}

func (cfg *Config) validate() error {
	var errs []error
	if cfg.RepoURL == "" {
		errs = append(errs, errors.New("repo_url is empty"))
	}
	if cfg.RepoPasswordFile != "" && cfg.RepoPasswordEnv != "" {
		errs = append(errs, errors.New("set only one of repo_password_file and repo_password_env"))
	}
	if _, err := cfg.poll(); err != nil {
		errs = append(errs, err)
	}
	for _, name := range cfg.appNames() {
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("application name %q: %s", name, strings.Join(msgs, "; ")))
		}
		p := cfg.Applications[name]
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
			errs = append(errs, fmt.Errorf("application %q: path %q must be a relative path inside the repository", name, p))
		}
	}
	return errors.Join(errs...)
}

// poll is the repository polling interval as Argo CD's timeout.reconciliation wants it.
func (cfg *Config) poll() (string, error) {
	d, err := time.ParseDuration(cfg.PollInterval)
	if err != nil || d < 0 {
		return "", fmt.Errorf("poll_interval %q: want a duration such as 3m", cfg.PollInterval)
	}
	return fmt.Sprintf("%ds", int64(d/time.Second)), nil
}

func (cfg *Config) appNames() []string {
	names := make([]string, 0, len(cfg.Applications))
	for n := range cfg.Applications {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// repoPassword reads the repository's password or token from the file or environment
// variable lab.hcl names; empty when the repository is public.
func (cfg *Config) repoPassword() (string, error) {
	var pw string
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
		pw = strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("repo_password_file %s is empty", cfg.RepoPasswordFile)
		}
	case cfg.RepoPasswordEnv != "":
		pw = os.Getenv(cfg.RepoPasswordEnv)
		if pw == "" {
			return "", fmt.Errorf("repo_password_env: environment variable %s is unset or empty", cfg.RepoPasswordEnv)
		}
	default:
		return "", nil
	}
	if cfg.RepoUsername == "" {
		return "", errors.New("repo_username is required with a repository password or token")
	}
	return pw, nil
}

func host(req *sdk.Request) string { return "argocd." + req.Lab.Domain }

func endpoint(req *sdk.Request) string { return "https://" + host(req) }

func (s *Stack) Install(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg, err := config(req)
	if err != nil {
		return nil, err
	}
	password, err := cfg.repoPassword()
	if err != nil {
		return nil, err
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	req.Emit("namespace", "namespace %s with its quota", namespace)
	if err := c.EnsureNamespace(ctx, namespace, &quota); err != nil {
		return nil, err
	}
	adm, err := ensureAdmin(ctx, c, req)
	if err != nil {
		return nil, err
	}
	want, err := release(cfg, req, adm)
	if err != nil {
		return nil, err
	}
	rel, err := c.Apply(ctx, req, want)
	if err != nil {
		return nil, err
	}
	// The AppProject and Applications need the chart's CRDs, so they come after it.
	changed, err := applyGitOps(ctx, c, req, cfg, password)
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Changed: rel.Changed || changed, Releases: []sdk.Release{rel},
		Summary: fmt.Sprintf("Argo CD at %s (release %s revision %d), %d applications from %s",
			endpoint(req), rel.Name, rel.Revision, len(cfg.Applications), cfg.RepoURL)}, nil
}

func (s *Stack) Render(ctx context.Context, req *sdk.Request) ([]sdk.RenderedChart, error) {
	cfg, err := config(req)
	if err != nil {
		return nil, err
	}
	r, err := release(cfg, req, currentAdmin(ctx, req))
	if err != nil {
		return nil, err
	}
	return []sdk.RenderedChart{r.Rendered()}, nil
}
