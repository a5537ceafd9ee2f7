// Package dbdump backs up and restores the databases of a stack: PostgreSQL with its
// own tools (pg_dump -Fc, pg_restore, psql) run in the database's pod, and Redis over its
// protocol through a port-forward. Nothing is exposed and nothing is installed on the
// user's machine; podexec carries the commands and bytes through the API server.
//
// Every dump is written to a temporary file (mode 0600) and renamed into place only
// when the server's tool or the key scan finished without error, then gets a checksum
// file <dump>.sha256 (sha256sum's format). A restore reads the whole dump against that
// checksum, and has the server itself accept it (pg_restore -l; a RESTORE of the first
// key under a temporary name), before anything is dropped or flushed: a dump cut short
// or changed anywhere is refused with the data still in place. (A table-of-contents
// read such as pg_restore -l alone accepts a dump cut after its header.)
//
// In a plugin, with c a *kube.Client and the pods of the stack:
//
//	pg := dbdump.Postgres{Exec: podexec.Pod{Config: c.Config, Kube: c.Kube,
//		Namespace: "nexo-local", Name: "postgres-0", Container: "postgres"}}
//	err := pg.BackupAll(ctx, filepath.Join(req.Dir, "postgres")) // every database + roles
//	err = pg.RestoreAll(ctx, filepath.Join(req.Dir, "postgres"))
//
//	harbor := dbdump.Postgres{Exec: harborDBPod, User: "postgres"}
//	err = harbor.Backup(ctx, "registry", filepath.Join(req.Dir, "registry.dump"))
//	err = harbor.Restore(ctx, "registry", filepath.Join(req.Dir, "registry.dump"))
//
//	pod := podexec.Pod{Config: c.Config, Kube: c.Kube, Namespace: "nexo-local", Name: "redis-0"}
//	rd := dbdump.Redis{Password: password, // from the stack's Secret
//		Dial: func(ctx context.Context) (io.ReadWriteCloser, error) { return pod.Forward(ctx, 6379) }}
//	err = rd.Backup(ctx, filepath.Join(req.Dir, "redis.dump"))
//	err = rd.Restore(ctx, filepath.Join(req.Dir, "redis.dump"))
//
// Versions: a -Fc dump is read by a pg_restore of the same or a newer major version, so
// restore into the same or a newer PostgreSQL (the tests use Debian bookworm's 15; the
// nexo-apps stack runs 16). A Redis DUMP payload is accepted by the same or a newer
// Redis (7 or later: the backup reads expiries with PEXPIRETIME).
package dbdump
