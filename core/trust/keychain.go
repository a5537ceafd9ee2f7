package trust

import (
	"context"
	"os"
	"path/filepath"
)

// The macOS login keychain, through the security tool. Not run here (Linux): written from
// security(1)'s documented add-trusted-cert, find-certificate and delete-certificate.
func loginKeychain() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "Library", "Keychains", "login.keychain-db")
}

func keychainHas(o Options) error {
	return run(context.Background(), "security", "find-certificate", "-c", o.nickname(), loginKeychain())
}

func keychainInstall(ctx context.Context, o Options, caPEM []byte) (Step, error) {
	tmp, err := tempPEM(caPEM)
	if err != nil {
		return Step{}, err
	}
	defer os.Remove(tmp)
	if keychainHas(o) == nil {
		_, _ = keychainRemove(ctx, o) // an older CA of the same lab
	}
	if err := run(ctx, "security", "add-trusted-cert", "-r", "trustRoot", "-k", loginKeychain(), tmp); err != nil {
		return Step{}, err
	}
	return Step{Store: "macOS login keychain", Action: "added " + o.nickname()}, nil
}

func keychainRemove(ctx context.Context, o Options) (Step, error) {
	if keychainHas(o) != nil {
		return Step{Store: "macOS login keychain", Action: "not there"}, nil
	}
	if err := run(ctx, "security", "delete-certificate", "-c", o.nickname(), "-t", loginKeychain()); err != nil {
		return Step{}, err
	}
	return Step{Store: "macOS login keychain", Action: "removed " + o.nickname()}, nil
}
