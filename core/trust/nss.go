package trust

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
)

// nssDatabases are the NSS databases of the user's browsers that exist: Chromium's (also
// under snap) and each Firefox profile's. lab never creates one: a browser that has not
// run yet makes its own and reads the system store's roots on Linux only through NSS.
func nssDatabases(home string) []string {
	var out []string
	for _, dir := range []string{
		filepath.Join(home, ".pki", "nssdb"),
		filepath.Join(home, "snap", "chromium", "current", ".pki", "nssdb"),
	} {
		if exists(filepath.Join(dir, "cert9.db")) {
			out = append(out, "sql:"+dir)
		}
	}
	for _, pattern := range []string{
		filepath.Join(home, ".mozilla", "firefox", "*"),
		filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox", "*"),
	} {
		profiles, _ := filepath.Glob(pattern)
		for _, p := range profiles {
			switch {
			case exists(filepath.Join(p, "cert9.db")):
				out = append(out, "sql:"+p)
			case exists(filepath.Join(p, "cert8.db")):
				out = append(out, "dbm:"+p)
			}
		}
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func certutil(ctx context.Context, args ...string) error {
	return run(ctx, append([]string{"certutil"}, args...)...)
}

// nssInstall trusts the CA for TLS servers in every database found (replacing an older
// CA of the same lab).
func nssInstall(ctx context.Context, o Options, caPEM []byte) ([]Step, error) {
	dbs := nssDatabases(o.home())
	if len(dbs) == 0 {
		return nil, nil
	}
	if _, err := exec.LookPath("certutil"); err != nil {
		return []Step{{Store: "NSS (Firefox, Chromium)", Action: "skipped: certutil not found (install libnss3-tools or nss-tools)"}}, nil
	}
	tmp, err := tempPEM(caPEM)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	var steps []Step
	for _, db := range dbs {
		removeNickname(ctx, db, o.nickname())
		if err := certutil(ctx, "-A", "-d", db, "-t", "C,,", "-n", o.nickname(), "-i", tmp); err != nil {
			return steps, err
		}
		steps = append(steps, Step{Store: "NSS " + db, Action: "added " + o.nickname()})
	}
	return steps, nil
}

func nssRemove(ctx context.Context, o Options) ([]Step, error) {
	if _, err := exec.LookPath("certutil"); err != nil {
		return nil, nil
	}
	var steps []Step
	for _, db := range nssDatabases(o.home()) {
		if removeNickname(ctx, db, o.nickname()) {
			steps = append(steps, Step{Store: "NSS " + db, Action: "removed " + o.nickname()})
		}
	}
	return steps, nil
}

// removeNickname deletes every certificate of a nickname in db; it reports whether there
// was one.
func removeNickname(ctx context.Context, db, nick string) bool {
	removed := false
	for i := 0; i < 10 && certutil(ctx, "-L", "-d", db, "-n", nick) == nil; i++ {
		if certutil(ctx, "-D", "-d", db, "-n", nick) != nil {
			break
		}
		removed = true
	}
	return removed
}
