package nexoapps

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/dbdump"
	"github.com/nexolab/lab/core/kube/podexec"
)

// Files of a backup, relative to its folder.
const (
	postgresDir = "postgres"   // one <database>.dump per database, and roles.sql
	redisFile   = "redis.dump" // every key of Redis
	realmFile   = "realm.json" // the nexo realm as Keycloak exports it
)

// provisionSQL makes each database and its user, idempotently: the user logs in with
// its generated password, owns its database, and no other user may connect to it. It
// goes to psql on stdin, so the passwords are on no command line.
func provisionSQL(users map[string]string) string {
	var b strings.Builder
	for _, name := range sortedKeys(users) {
		id, lit := quoteIdent(name), quoteLiteral(name)
		fmt.Fprintf(&b, "SELECT format('CREATE ROLE %%I LOGIN', %s) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s)\\gexec\n", lit, lit)
		fmt.Fprintf(&b, "ALTER ROLE %s WITH LOGIN PASSWORD %s;\n", id, quoteLiteral(users[name]))
		fmt.Fprintf(&b, "SELECT format('CREATE DATABASE %%I OWNER %%I', %s, %s) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = %s)\\gexec\n", lit, lit, lit)
		fmt.Fprintf(&b, "REVOKE ALL ON DATABASE %s FROM PUBLIC;\nGRANT ALL ON DATABASE %s TO %s;\n", id, id, id)
	}
	return b.String()
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// provision runs the SQL as the superuser through a runner of psql.
func provision(ctx context.Context, pg dbdump.Postgres, users map[string]string) error {
	args := []string{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", userOr(pg.User), "-f", "-"}
	env := map[string]string{"PGDATABASE": "postgres"}
	if pg.Password != "" {
		env["PGPASSWORD"] = pg.Password
	}
	if pg.Host != "" {
		args = append(args, "-h", pg.Host)
	}
	if pg.Port != 0 {
		args = append(args, "-p", fmt.Sprint(pg.Port))
	}
	var stderr strings.Builder
	err := pg.Exec.Run(ctx, podexec.Command{Args: args, Env: env, Stdin: strings.NewReader(provisionSQL(users)), Stderr: &stderr})
	if err != nil {
		return fmt.Errorf("provisioning the databases: %w", err)
	}
	return nil
}

func userOr(u string) string {
	if u == "" {
		return "postgres"
	}
	return u
}

// targets are the servers a backup reads and a restore writes: found in the cluster for
// a real lab, local servers in tests.
type targets struct {
	Postgres dbdump.Postgres
	Redis    dbdump.Redis
	Realm    realmAPI // nil: no realm export (a simulated cluster)
	// Users are the database users and their passwords, set again after a restore
	// (a dump's roles carry no passwords).
	Users    map[string]string
	redisPod string
}

// realmAPI is what a backup needs of Keycloak.
type realmAPI interface {
	Export(ctx context.Context, realm string) ([]byte, error)
	Import(ctx context.Context, realm string, export []byte) error
}

// pod returns the running pod of an app in the shared namespace.
func pod(ctx context.Context, s *session, app string) (string, error) {
	pods, err := s.Kube.Kube.CoreV1().Pods(dataNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + app})
	if err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			return p.Name, nil
		}
	}
	return "", fmt.Errorf("no running %s pod in %s", app, dataNamespace)
}

// clusterTargets finds PostgreSQL's and Redis's pods and Keycloak's admin API.
func clusterTargets(ctx context.Context, s *session) (*targets, error) {
	sec, err := ensureSecrets(ctx, s)
	if err != nil {
		return nil, err
	}
	pgPod, err := pod(ctx, s, "postgres")
	if err != nil {
		return nil, err
	}
	redisPod, err := pod(ctx, s, "redis")
	if err != nil {
		return nil, err
	}
	c := s.Kube
	rp := podexec.Pod{Config: c.Config, Kube: c.Kube, Namespace: dataNamespace, Name: redisPod, Container: "redis"}
	t := &targets{
		// The official image trusts local connections inside its pod.
		Postgres: dbdump.Postgres{Exec: podexec.Pod{Config: c.Config, Kube: c.Kube, Namespace: dataNamespace, Name: pgPod, Container: "postgres"}},
		Redis: dbdump.Redis{Password: sec.Redis,
			Dial: func(ctx context.Context) (io.ReadWriteCloser, error) { return rp.Forward(ctx, 6379) }},
		Users: sec.Users, redisPod: redisPod,
	}
	if !s.Simulated() {
		if t.Realm, err = adminClient(ctx, s, sec); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// backup dumps every database, Redis's keys and the realm into dir.
func (t *targets) backup(ctx context.Context, dir string) ([]string, error) {
	if err := t.Postgres.BackupAll(ctx, filepath.Join(dir, postgresDir)); err != nil {
		return nil, err
	}
	if err := t.Redis.Backup(ctx, filepath.Join(dir, redisFile)); err != nil {
		return nil, err
	}
	files, err := filesIn(dir)
	if err != nil || t.Realm == nil {
		return files, err
	}
	export, err := t.Realm.Export(ctx, realmName)
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, realmFile), export); err != nil {
		return nil, err
	}
	return append(files, realmFile), nil
}

// restore verifies every file before it changes anything, then brings back the
// databases (and their users' passwords), Redis and the realm.
func (t *targets) restore(ctx context.Context, dir string) ([]string, error) {
	if err := dbdump.VerifyRedis(filepath.Join(dir, redisFile)); err != nil {
		return nil, err
	}
	if err := t.Postgres.RestoreAll(ctx, filepath.Join(dir, postgresDir)); err != nil {
		return nil, err
	}
	if err := provision(ctx, t.Postgres, t.Users); err != nil {
		return nil, err
	}
	if err := t.Redis.Restore(ctx, filepath.Join(dir, redisFile)); err != nil {
		return nil, err
	}
	files, err := filesIn(dir)
	if err != nil || t.Realm == nil || !slices.Contains(files, realmFile) {
		return files, err
	}
	export, err := readFile(filepath.Join(dir, realmFile))
	if err != nil {
		return nil, err
	}
	return files, t.Realm.Import(ctx, realmName, export)
}

// provisionDatabases makes the databases and users of environments added since
// PostgreSQL's first start (when the chart's init script made those of then), before the
// charts that need them. No PostgreSQL runs yet on a first install, nor on kwok.
func provisionDatabases(ctx context.Context, s *session, sec *secrets) error {
	if s.Simulated() {
		s.Req.Emit("databases", "simulated cluster: no PostgreSQL runs to provision %s", strings.Join(sortedKeys(sec.Users), ", "))
		return nil
	}
	name, err := pod(ctx, s, "postgres")
	if err != nil {
		s.Req.Emit("databases", "PostgreSQL makes %s at its first start", strings.Join(sortedKeys(sec.Users), ", "))
		return nil
	}
	pg := dbdump.Postgres{Exec: podexec.Pod{Config: s.Kube.Config, Kube: s.Kube.Kube, Namespace: dataNamespace, Name: name, Container: "postgres"}}
	s.Req.Emit("databases", "databases and users %s in %s/%s", strings.Join(sortedKeys(sec.Users), ", "), dataNamespace, name)
	return provision(ctx, pg, sec.Users)
}

// databases are the databases the config's environments and Keycloak use.
func databases(cfg *Config) []string {
	out := []string{authDatabase}
	for _, e := range environments(cfg) {
		out = append(out, e.Database())
	}
	slices.Sort(out)
	return out
}

func backupData(ctx context.Context, s *session, dir string) ([]string, string, error) {
	t, err := clusterTargets(ctx, s)
	if err != nil {
		return nil, "", err
	}
	if s.Simulated() {
		return nil, simulatedNote(s, t, "backed up"), nil
	}
	files, err := t.backup(ctx, dir)
	if err != nil {
		return nil, "", err
	}
	return files, fmt.Sprintf("PostgreSQL (%s), Redis and the %s realm", strings.Join(databases(s.Config), ", "), realmName), nil
}

func restoreData(ctx context.Context, s *session, dir string) ([]string, string, error) {
	t, err := clusterTargets(ctx, s)
	if err != nil {
		return nil, "", err
	}
	if s.Simulated() {
		return nil, simulatedNote(s, t, "restored"), nil
	}
	files, err := t.restore(ctx, dir)
	if err != nil {
		return nil, "", err
	}
	return files, "PostgreSQL, Redis and the realm restored", nil
}

// simulatedNote says what a real cluster would have had dumped or restored: no
// container runs to exec into on a simulated one.
func simulatedNote(s *session, t *targets, verb string) string {
	pg, _ := t.Postgres.Exec.(podexec.Pod)
	return fmt.Sprintf("databases not %s: simulated cluster (no container runs); on a real one %s/%s (%s) and %s/%s",
		verb, dataNamespace, pg.Name, strings.Join(databases(s.Config), ", "), dataNamespace, t.redisPod)
}
