package harbor

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/dbdump"
	"github.com/nexolab/lab/core/helmstack"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/kube/podexec"
)

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// objects are the generated Secrets, restored first: Harbor's database encrypts what it
// stores with secretKey, so a database is worth nothing without them.
var objects = []helmstack.ObjectSet{
	{File: "secrets.yaml", Kind: "Secret", GVR: secretsGVR, Names: []string{secretsName, tokenSecret}},
	{File: "credentials.yaml", Kind: "Secret", GVR: secretsGVR, Selector: kube.StackLabel + "=" + stackName + "," + kube.CredentialsLabel},
}

// Harbor's internal PostgreSQL: the chart's StatefulSet <release>-database, container
// "database", superuser postgres with the generated password; core's database is
// "registry" (database.external.coreDatabase's default, which the internal one uses).
const (
	coreDatabase = "registry"
	databaseFile = "database/" + coreDatabase + ".dump"
	registryFile = "registry/storage.tar"
	// registryRoot is the registry container's storage (the chart's
	// persistence.imageChartStorage.filesystem.rootdirectory).
	registryRoot = "/storage"
)

func postgres(ctx context.Context, s *session) (dbdump.Postgres, error) {
	data, err := s.Secret(ctx, s.Config.Namespace, secretsName, map[string]kube.Generator{keyDatabase: nil})
	if err != nil {
		return dbdump.Postgres{}, err
	}
	pod := podexec.Pod{Config: s.Kube.Config, Kube: s.Kube.Kube, Namespace: s.Config.Namespace,
		Name: releaseName + "-database-0", Container: "database", Timeout: 30 * time.Minute}
	return dbdump.Postgres{Exec: pod, User: "postgres", Password: string(data[keyDatabase])}, nil
}

// registryPod is the registry's container, found by the chart's component label.
func registryPod(ctx context.Context, s *session) (podexec.Pod, error) {
	pods, err := s.Kube.Kube.CoreV1().Pods(s.Config.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "release=" + releaseName + ",component=registry", FieldSelector: "status.phase=Running"})
	if err != nil {
		return podexec.Pod{}, err
	}
	if len(pods.Items) == 0 {
		return podexec.Pod{}, fmt.Errorf("no running registry pod in %s", s.Config.Namespace)
	}
	return podexec.Pod{Config: s.Kube.Config, Kube: s.Kube.Kube, Namespace: s.Config.Namespace,
		Name: pods.Items[0].Name, Container: "registry", Timeout: 2 * time.Hour}, nil
}

func backup(ctx context.Context, s *session, dir string) ([]string, string, error) {
	if s.Simulated() {
		return nil, "no database dump (no container runs on a simulated cluster)", nil
	}
	pg, err := postgres(ctx, s)
	if err != nil {
		return nil, "", err
	}
	return backupData(ctx, pg, s.Config.BackupRegistry, func() (podexec.Runner, error) { return registryPod(ctx, s) }, dir)
}

// backupData dumps core's database and, when asked, tars the registry's storage.
func backupData(ctx context.Context, pg dbdump.Postgres, withRegistry bool, registry func() (podexec.Runner, error), dir string) ([]string, string, error) {
	if err := pg.Backup(ctx, coreDatabase, filepath.Join(dir, databaseFile)); err != nil {
		return nil, "", fmt.Errorf("dump Harbor's database: %w", err)
	}
	files := []string{databaseFile, databaseFile + dbdump.SumSuffix}
	if !withRegistry {
		return files, "database " + coreDatabase + " (registry blobs left out; backup_registry = true adds them)", nil
	}
	r, err := registry()
	if err != nil {
		return nil, "", err
	}
	err = atomicfile.WriteFrom(filepath.Join(dir, registryFile), 0o600, func(w io.Writer) error {
		return r.Run(ctx, podexec.Command{Args: []string{"tar", "-C", registryRoot, "-cf", "-", "."}, Stdout: w})
	})
	if err != nil {
		return nil, "", fmt.Errorf("registry blobs: %w", err)
	}
	return append(files, registryFile), "database " + coreDatabase + " and the registry's blobs", nil
}

func restore(ctx context.Context, s *session, dir string) ([]string, string, error) {
	if s.Simulated() {
		return nil, "no database restored (no container runs on a simulated cluster)", nil
	}
	if _, err := os.Stat(filepath.Join(dir, databaseFile)); os.IsNotExist(err) {
		return nil, "the backup holds no Harbor database", nil
	}
	pg, err := postgres(ctx, s)
	if err != nil {
		return nil, "", err
	}
	files, summary, err := restoreData(ctx, pg, func() (podexec.Runner, error) { return registryPod(ctx, s) }, dir)
	if err != nil {
		return nil, "", err
	}
	// The components read the restored Secrets only when they start.
	for _, d := range []string{"core", "jobservice", "registry"} {
		if err := restart(ctx, s, releaseName+"-"+d); err != nil {
			return nil, "", err
		}
	}
	return files, summary, nil
}

// restoreData replaces core's database from the dump, gives the superuser the password
// of the restored Secret (the one the components now read) and puts the registry's blobs
// back when the backup has them.
func restoreData(ctx context.Context, pg dbdump.Postgres, registry func() (podexec.Runner, error), dir string) ([]string, string, error) {
	if err := pg.Restore(ctx, coreDatabase, filepath.Join(dir, databaseFile)); err != nil {
		return nil, "", fmt.Errorf("restore Harbor's database: %w", err)
	}
	if err := setSuperuserPassword(ctx, pg); err != nil {
		return nil, "", err
	}
	files := []string{databaseFile}
	summary := "database " + coreDatabase
	f, err := os.Open(filepath.Join(dir, registryFile))
	if os.IsNotExist(err) {
		return files, summary, nil
	}
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	r, err := registry()
	if err != nil {
		return nil, "", err
	}
	if err := r.Run(ctx, podexec.Command{Args: []string{"tar", "-C", registryRoot, "-xf", "-"}, Stdin: f}); err != nil {
		return nil, "", fmt.Errorf("registry blobs: %w", err)
	}
	return append(files, registryFile), summary + " and the registry's blobs", nil
}

// setSuperuserPassword gives postgres the password the components read from the
// restored Secret: roles live outside the restored database, so the server still has
// the password of its own first start. The SQL goes on stdin, out of any process list;
// the image's local socket trusts its own user.
func setSuperuserPassword(ctx context.Context, pg dbdump.Postgres) error {
	sql := "ALTER ROLE postgres WITH PASSWORD '" + strings.ReplaceAll(pg.Password, "'", "''") + "';\n"
	err := pg.Exec.Run(ctx, podexec.Command{Args: []string{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "template1"},
		Stdin: strings.NewReader(sql)})
	if err != nil {
		return fmt.Errorf("set the database password of the restored Secret: %w", err)
	}
	return nil
}

// restart rolls a Deployment's pods, as `kubectl rollout restart` does.
func restart(ctx context.Context, s *session, name string) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"lab.nexolab.dev/restarted-at":%q}}}}}`, time.Now().UTC().Format(time.RFC3339))
	_, err := s.Kube.Kube.AppsV1().Deployments(s.Config.Namespace).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	return kube.IgnoreNotFound(err)
}
