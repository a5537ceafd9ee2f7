package dbdump

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nexolab/lab/core/kube/podexec"
)

// Postgres backs up and restores databases of one PostgreSQL server with its own
// client tools (pg_dump, pg_restore, psql, pg_dumpall), run where Exec runs them: in the
// database's pod through the API server (podexec.Pod) or on this machine (podexec.Local).
type Postgres struct {
	Exec podexec.Runner
	// User connects (-U); "postgres" when empty. It must be able to drop and create the
	// databases it restores (a superuser or their owner with CREATEDB).
	User string
	// Password goes to the tools as PGPASSWORD in their environment; empty for servers
	// that trust local connections (the official image inside its pod).
	Password string
	Host     string // -h; empty: the tools' default (the local socket)
	Port     int    // -p; 0: the tools' default
}

// pgMagic starts every pg_dump custom-format (-Fc) archive.
const pgMagic = "PGDMP"

// maintenanceDB is where databases are dropped and created from: it always exists and
// `pg_restore --create` builds from template0, so a session here blocks nothing.
const maintenanceDB = "template1"

// RolesFile is the roles part of BackupAll's folder.
const RolesFile = "roles.sql"

// DumpSuffix ends each database's file in BackupAll's folder.
const DumpSuffix = ".dump"

func (p Postgres) run(ctx context.Context, db string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	args = append(args, "-U", p.user())
	if p.Host != "" {
		args = append(args, "-h", p.Host)
	}
	if p.Port != 0 {
		args = append(args, "-p", strconv.Itoa(p.Port))
	}
	// The database goes by PGDATABASE: a name given to -d that holds "=" would be read
	// as a connection string.
	env := map[string]string{"PGDATABASE": db}
	if p.Password != "" {
		env["PGPASSWORD"] = p.Password
	}
	return p.Exec.Run(ctx, podexec.Command{Args: args, Env: env, Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func (p Postgres) user() string {
	if p.User == "" {
		return "postgres"
	}
	return p.User
}

// Databases lists the server's databases that accept connections, templates left out.
func (p Postgres) Databases(ctx context.Context) ([]string, error) {
	var out bytes.Buffer
	q := "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1"
	if err := p.run(ctx, maintenanceDB, []string{"psql", "-X", "-A", "-t", "-0", "-c", q}, nil, &out, nil); err != nil {
		return nil, err
	}
	var dbs []string
	for _, name := range strings.Split(strings.TrimRight(out.String(), "\x00\n"), "\x00") {
		if name != "" {
			dbs = append(dbs, name)
		}
	}
	return dbs, nil
}

// Dump streams `pg_dump -Fc` of db into w. An error means w holds no usable dump.
func (p Postgres) Dump(ctx context.Context, db string, w io.Writer) error {
	return p.run(ctx, db, []string{"pg_dump", "-Fc"}, nil, w, nil)
}

// Backup writes db's dump to path (mode 0600, replaced only when whole) and its
// checksum to path+".sha256".
func (p Postgres) Backup(ctx context.Context, db, path string) error {
	return writeDump(path, func(w io.Writer) error { return p.Dump(ctx, db, w) })
}

// BackupAll writes every database of the server into dir as <name>.dump (names
// escaped for file names) and the roles, without their passwords, as roles.sql, each
// with its checksum file. Passwords stay with the stack's Secrets.
func (p Postgres) BackupAll(ctx context.Context, dir string) error {
	dbs, err := p.Databases(ctx)
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if err := p.Backup(ctx, db, filepath.Join(dir, fileName(db)+DumpSuffix)); err != nil {
			return err
		}
	}
	if err := removeStale(dir, dbs); err != nil {
		return err
	}
	return writeDump(filepath.Join(dir, RolesFile), func(w io.Writer) error {
		return p.run(ctx, maintenanceDB, []string{"pg_dumpall", "--roles-only", "--no-role-passwords"}, nil, w, nil)
	})
}

// Verify checks a dump against its checksum file, reading all of it: a dump cut short
// anywhere, or changed in one byte, is refused. It needs no PostgreSQL tools.
func Verify(path string) error { return verifyFile(path, pgMagic) }

// Restore replaces database db with the dump at path. Before anything is dropped, the
// dump is verified and the server's own pg_restore reads its table of contents (an
// archive from a newer pg_dump than the server's tools is refused there) and must name
// db. Then db is dropped (sessions on it are ended) and re-created from the dump, with
// its owner, settings and privileges; the roles they name must exist (RestoreAll
// creates them).
func (p Postgres) Restore(ctx context.Context, db, path string) error {
	if err := p.check(ctx, db, path); err != nil {
		return err
	}
	return p.replace(ctx, db, path)
}

// RestoreAll restores a folder written by BackupAll: every file is verified and read
// by the server's pg_restore first; then the missing roles are created and each
// database is replaced. Databases of the server that the folder does not hold are left
// alone.
func (p Postgres) RestoreAll(ctx context.Context, dir string) error {
	dbs, err := dumpsIn(dir)
	if err != nil {
		return err
	}
	roles := filepath.Join(dir, RolesFile)
	if err := verifyFile(roles, "--"); err != nil {
		return err
	}
	for _, db := range dbs {
		if err := p.check(ctx, db, filepath.Join(dir, fileName(db)+DumpSuffix)); err != nil {
			return err
		}
	}
	if err := p.restoreRoles(ctx, roles); err != nil {
		return err
	}
	for _, db := range dbs {
		if err := p.replace(ctx, db, filepath.Join(dir, fileName(db)+DumpSuffix)); err != nil {
			return err
		}
	}
	return nil
}

// check verifies the dump and has the server's pg_restore list it.
func (p Postgres) check(ctx context.Context, db, path string) error {
	if err := Verify(path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var list bytes.Buffer
	if err := p.run(ctx, maintenanceDB, []string{"pg_restore", "-l"}, f, &list, nil); err != nil {
		return fmt.Errorf("%s: the server's pg_restore cannot read it: %w", path, err)
	}
	if got := listedDB(list.String()); got != db {
		return fmt.Errorf("%s: holds database %q, not %q", path, got, db)
	}
	return nil
}

// listedDB is the database named in the header of `pg_restore -l`.
func listedDB(list string) string {
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), ";     dbname: "); ok {
			return name
		}
	}
	return ""
}

// replace drops db and creates it again from the (checked) dump.
func (p Postgres) replace(ctx context.Context, db, path string) error {
	drop := "DROP DATABASE IF EXISTS " + quoteIdent(db) + " WITH (FORCE)"
	if err := p.run(ctx, maintenanceDB, []string{"psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", drop}, nil, nil, nil); err != nil {
		return fmt.Errorf("restore %s: %w", db, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := p.run(ctx, maintenanceDB, []string{"pg_restore", "--create", "--exit-on-error", "-d", maintenanceDB}, f, nil, nil); err != nil {
		return fmt.Errorf("restore %s from %s: %w", db, path, err)
	}
	return nil
}

// restoreRoles runs roles.sql the way pg_dumpall means it: statement by statement, where
// "role ... already exists" is expected for roles the server has; any other error fails.
func (p Postgres) restoreRoles(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var stderr bytes.Buffer
	if err := p.run(ctx, maintenanceDB, []string{"psql", "-X", "-q", "-f", "-"}, f, nil, &stderr); err != nil {
		return fmt.Errorf("restore roles: %w", err)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "ERROR:") && !strings.Contains(line, "already exists") {
			return fmt.Errorf("restore roles from %s: %s", path, strings.TrimSpace(line))
		}
	}
	return nil
}

// removeStale deletes the dumps of databases the server no longer has, left in dir by
// an earlier BackupAll, so that RestoreAll does not bring them back.
func removeStale(dir string, dbs []string) error {
	old, err := filepath.Glob(filepath.Join(dir, "*"+DumpSuffix))
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, db := range dbs {
		keep[filepath.Join(dir, fileName(db)+DumpSuffix)] = true
	}
	for _, p := range old {
		if !keep[p] {
			if err := errors.Join(os.Remove(p), ignoreMissing(os.Remove(p+SumSuffix))); err != nil {
				return err
			}
		}
	}
	return nil
}

func ignoreMissing(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// dumpsIn lists the databases of a BackupAll folder.
func dumpsIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dbs []string
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), DumpSuffix)
		if !ok || e.IsDir() {
			continue
		}
		db, err := url.PathUnescape(base)
		if err != nil {
			return nil, fmt.Errorf("%s: not a database dump name", filepath.Join(dir, e.Name()))
		}
		dbs = append(dbs, db)
	}
	if len(dbs) == 0 {
		return nil, fmt.Errorf("%s: no database dumps (*%s)", dir, DumpSuffix)
	}
	sort.Strings(dbs)
	return dbs, nil
}

// fileName escapes every byte but letters, digits, '-' and '_', so any database name
// is one safe file name.
func fileName(db string) string {
	var b strings.Builder
	for i := 0; i < len(db); i++ {
		c := db[i]
		if c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
