package harbor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// checks follow the rollouts: the robots' logins and the pull secrets (objects, checked
// everywhere), then what only a running Harbor answers: its components' health, the
// Trivy scanner, the projects and robots.
func checks(ctx context.Context, s *session, h *sdk.Health) {
	checkRobotLogins(ctx, s, h)
	checkPullSecrets(ctx, s, h)
	if s.Simulated() {
		h.SkipSimulated("harbor components", "")
		h.SkipSimulated("trivy scanner", "")
		h.SkipSimulated("projects", "the robots' logins are in their Secrets")
		return
	}
	checkComponents(ctx, s, h)
	api, err := connect(ctx, s, 0)
	if err != nil {
		h.Add("trivy scanner", sdk.Unhealthy, "%v", err)
		h.Add("projects", sdk.Unhealthy, "%v", err)
		return
	}
	checkScanner(ctx, api, h)
	checkProjects(ctx, s, api, h)
}

func checkRobotLogins(ctx context.Context, s *session, h *sdk.Health) {
	var missing []string
	for _, p := range s.Config.Projects {
		sec, err := s.Kube.Kube.CoreV1().Secrets(s.Config.Namespace).Get(ctx, robotSecretName(p), metav1.GetOptions{})
		if err != nil || len(sec.Data[kube.PasswordKey]) == 0 {
			missing = append(missing, robotSecretName(p))
		}
	}
	if len(missing) > 0 {
		h.Add("robot logins", sdk.Unhealthy, "Secret %s missing in %s (apply makes it)", strings.Join(missing, ", "), s.Config.Namespace)
		return
	}
	h.Add("robot logins", sdk.Healthy, "%d robot logins in %s", len(s.Config.Projects), s.Config.Namespace)
}

// checkPullSecrets confirms each existing pull namespace has the projects' pull secrets,
// named by its default ServiceAccount; absent namespaces are reported, not failed.
func checkPullSecrets(ctx context.Context, s *session, h *sdk.Health) {
	present, absent, err := pullNamespaces(ctx, s)
	if err != nil {
		h.Add("pull secrets", sdk.Unhealthy, "%v", err)
		return
	}
	var problems []string
	for _, ns := range present {
		sa, err := s.Kube.Kube.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", ns, err))
			continue
		}
		for _, p := range s.Config.Projects {
			name := pullSecretName(p)
			if _, err := s.Kube.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
				problems = append(problems, fmt.Sprintf("%s/%s missing", ns, name))
				continue
			}
			if !slices.ContainsFunc(sa.ImagePullSecrets, func(r corev1.LocalObjectReference) bool { return r.Name == name }) {
				problems = append(problems, fmt.Sprintf("%s/default does not name %s", ns, name))
			}
		}
	}
	if len(problems) > 0 {
		h.Add("pull secrets", sdk.Unhealthy, "%s (`lab apply --refresh` puts them in)", strings.Join(problems, "; "))
		return
	}
	msg := "no pull namespace exists yet"
	if len(present) > 0 {
		msg = "default ServiceAccount of " + strings.Join(present, ", ") + " pulls with the robots"
	}
	if len(absent) > 0 {
		msg += "; " + strings.Join(absent, ", ") + " absent (once they exist, `lab apply --refresh` adds them)"
	}
	h.Add("pull secrets", sdk.Healthy, "%s", msg)
}

// checkComponents is Harbor's own health, one check per component it reports.
func checkComponents(ctx context.Context, s *session, h *sdk.Health) {
	api, err := harborThroughAPIServer(s.Kube, s.Config.Namespace, releaseName+"-core", "http-web", "", "")
	if err != nil {
		h.Add("harbor components", sdk.Unhealthy, "%v", err)
		return
	}
	hl, err := api.health(ctx)
	if err != nil {
		h.Add("harbor components", sdk.Unhealthy, "%v", err)
		return
	}
	if len(hl.Components) == 0 {
		h.Add("harbor components", sdk.Unhealthy, "Harbor reports no components (status %q)", hl.Status)
		return
	}
	for _, c := range hl.Components {
		if c.Status == "healthy" {
			h.Add("harbor "+c.Name, sdk.Healthy, "healthy")
		} else {
			h.Add("harbor "+c.Name, sdk.Unhealthy, "%s: %s", c.Status, c.Error)
		}
	}
}

func checkScanner(ctx context.Context, api *harborAPI, h *sdk.Health) {
	list, err := api.scanners(ctx)
	if err != nil {
		h.Add("trivy scanner", sdk.Unhealthy, "%v", err)
		return
	}
	for _, sc := range list {
		if strings.EqualFold(sc.Name, "trivy") {
			switch {
			case sc.Disabled:
				h.Add("trivy scanner", sdk.Unhealthy, "scanner %s is disabled", sc.Name)
			case !sc.IsDefault:
				h.Add("trivy scanner", sdk.Degraded, "scanner %s is not the default: pushed images are scanned by another", sc.Name)
			default:
				h.Add("trivy scanner", sdk.Healthy, "%s at %s, the default scanner", sc.Name, sc.URL)
			}
			return
		}
	}
	h.Add("trivy scanner", sdk.Unhealthy, "Harbor has no Trivy scanner registered (%d others)", len(list))
}

// checkProjects confirms every project exists, private and scanned on push, with its
// robot enabled.
func checkProjects(ctx context.Context, s *session, api *harborAPI, h *sdk.Health) {
	var problems, ok []string
	for _, p := range s.Config.Projects {
		proj, err := api.project(ctx, p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if proj == nil {
			problems = append(problems, fmt.Sprintf("project %s missing", p))
			continue
		}
		for k, v := range wantMetadata {
			if proj.Metadata[k] != v {
				problems = append(problems, fmt.Sprintf("project %s has %s=%q, not %q", p, k, proj.Metadata[k], v))
			}
		}
		robots, err := api.robots(ctx, proj.ID)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		name := robotName(p, s.Config.Robot)
		i := slices.IndexFunc(robots, func(r robot) bool { return r.Name == name })
		switch {
		case i < 0:
			problems = append(problems, fmt.Sprintf("robot %s missing", name))
		case robots[i].Disable:
			problems = append(problems, fmt.Sprintf("robot %s is disabled", name))
		default:
			ok = append(ok, p+" ("+name+")")
		}
	}
	if len(problems) > 0 {
		h.Add("projects", sdk.Unhealthy, "%s (apply makes them)", strings.Join(problems, "; "))
		return
	}
	h.Add("projects", sdk.Healthy, "private, scanned on push: %s", strings.Join(ok, ", "))
}
