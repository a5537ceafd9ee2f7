package harbor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
)

// robotSecretName is the Secret of a project's robot: its login (`lab credentials`) and
// the id of the Harbor robot that was given its password.
func robotSecretName(project string) string { return "harbor-robot-" + project }

const robotIDKey = "robot-id"

// robotSecret is a password Harbor accepts for a robot: 8 to 128 characters with an
// upper case letter, a lower case letter and a digit.
func robotSecret() ([]byte, error) {
	for {
		b, err := kube.Password(32)()
		if err != nil {
			return nil, err
		}
		s := string(b)
		if strings.ContainsAny(s, "ABCDEFGHJKLMNPQRSTUVWXYZ") && strings.ContainsAny(s, "abcdefghijkmnopqrstuvwxyz") &&
			strings.ContainsAny(s, "0123456789") {
			return b, nil
		}
	}
}

// robotCredentials are the projects' robot logins, generated once.
func robotCredentials(ctx context.Context, s *session) (map[string]kube.Credential, error) {
	out := map[string]kube.Credential{}
	for _, p := range s.Config.Projects {
		name := robotSecretName(p)
		if _, err := s.Secret(ctx, s.Config.Namespace, name, map[string]kube.Generator{kube.PasswordKey: robotSecret}); err != nil {
			return nil, err
		}
		cred, err := s.Credential(ctx, "harbor-robot-"+p, s.Config.Namespace, name, "https://"+s.Host("harbor"), robotName(p, s.Config.Robot))
		if err != nil {
			return nil, err
		}
		if !s.DryRun {
			login := fmt.Sprintf("docker login %s -u '%s' --password-stdin  # helm registry login for oci://%s/%s", s.Host("harbor"), cred.Username, s.Host("harbor"), p)
			if err := setKey(ctx, s, name, kube.LoginKey, login); err != nil {
				return nil, err
			}
		}
		out[p] = cred
	}
	return out, nil
}

// setKey sets one key of a Secret of the stack's namespace, when it differs.
func setKey(ctx context.Context, s *session, name, key, value string) error {
	secrets := s.Kube.Kube.CoreV1().Secrets(s.Config.Namespace)
	sec, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if string(sec.Data[key]) == value {
		return nil
	}
	sec.Data[key] = []byte(value)
	if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("secret %s/%s: %w", s.Config.Namespace, name, err)
	}
	return nil
}

// after makes the robots' logins, the projects and robots in Harbor (once core answers;
// not on a simulated cluster, where no Harbor runs) and the pull secrets.
func after(ctx context.Context, s *session) (bool, error) {
	creds, err := robotCredentials(ctx, s)
	if err != nil {
		return false, err
	}
	changed := false
	if s.Simulated() {
		s.Req.Emit("projects", "simulated cluster: no Harbor runs, projects %s and their robots are made on a real cluster", strings.Join(s.Config.Projects, ", "))
	} else if changed, err = syncHarbor(ctx, s, creds); err != nil {
		return false, err
	}
	for _, p := range s.Config.Projects {
		s.Req.Emit("robot", "push with: docker login %s -u '%s' (password: lab credentials harbor --show-secrets)", s.Host("harbor"), creds[p].Username)
	}
	pulled, err := syncPullSecrets(ctx, s, creds)
	return changed || pulled, err
}

// connect logs in to Harbor's API through the API server, waiting up to wait for core
// to answer: its Deployment is ready before its database migrations are done.
func connect(ctx context.Context, s *session, wait time.Duration) (*harborAPI, error) {
	admin, err := s.Credential(ctx, "harbor", s.Config.Namespace, adminSecret, "https://"+s.Host("harbor"), adminUser)
	if err != nil {
		return nil, err
	}
	api, err := harborThroughAPIServer(s.Kube, s.Config.Namespace, releaseName+"-core", "http-web", adminUser, admin.Password)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err = api.login(ctx)
		if err == nil || errors.Is(err, errRefused) || time.Now().After(deadline) {
			return api, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(3 * time.Second):
		}
	}
}

// syncHarbor makes each project (private, scanned on push) and its robot, and gives the
// robot the password lab keeps. The robot's id is recorded in its Secret once Harbor has
// its password, so a re-apply changes nothing.
func syncHarbor(ctx context.Context, s *session, creds map[string]kube.Credential) (bool, error) {
	api, err := connect(ctx, s, 3*time.Minute)
	if err != nil {
		return false, err
	}
	changed := false
	for _, p := range s.Config.Projects {
		proj, ch, err := api.ensureProject(ctx, p)
		if err != nil {
			return false, err
		}
		changed = changed || ch
		ch, err = ensureRobot(ctx, s, api, proj, creds[p])
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	return changed, nil
}

func ensureRobot(ctx context.Context, s *session, api *harborAPI, proj *project, cred kube.Credential) (bool, error) {
	robots, err := api.robots(ctx, proj.ID)
	if err != nil {
		return false, err
	}
	var found *robot
	for i := range robots {
		if robots[i].Name == cred.Username {
			found = &robots[i]
		}
	}
	if found == nil {
		if found, err = api.createRobot(ctx, proj.Name, s.Config.Robot); err != nil {
			return false, err
		}
		s.Req.Emit("robot", "robot %s created", found.Name)
	}
	sec, err := s.Kube.Kube.CoreV1().Secrets(cred.Namespace).Get(ctx, cred.Secret, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	id := fmt.Sprint(found.ID)
	if string(sec.Data[robotIDKey]) == id {
		return false, nil
	}
	if err := api.setRobotSecret(ctx, found.ID, cred.Password); err != nil {
		return false, err
	}
	if err := setKey(ctx, s, cred.Secret, robotIDKey, id); err != nil {
		return false, err
	}
	return true, nil
}
