// Package trust installs a lab's CA where the machine's tools and browsers look for trusted
// roots (the system store, and the NSS databases of Firefox and Chromium), removes exactly
// that again, and verifies the result with a real TLS handshake.
package trust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Options say whose CA it is and where the user's browser profiles are.
type Options struct {
	// Lab names the CA: the file lab-<lab>.crt in the system store, the nickname
	// "lab <lab> CA" in NSS databases.
	Lab string
	// Home holds the NSS databases (~/.pki/nssdb, Firefox profiles); default $HOME.
	Home string
}

// Step is one store changed or left alone, for the user to read.
type Step struct {
	Store  string `json:"store"`
	Action string `json:"action"`
}

func (o Options) fileName() string { return "lab-" + o.Lab + ".crt" }
func (o Options) nickname() string { return "lab " + o.Lab + " CA" }

func (o Options) home() string {
	if o.Home != "" {
		return o.Home
	}
	h, _ := os.UserHomeDir()
	return h
}

// Install adds caPEM to the system store and to every NSS database found.
func Install(ctx context.Context, o Options, caPEM []byte) ([]Step, error) {
	sys, err := systemStore()
	if err != nil {
		return nil, err
	}
	step, err := sys.install(ctx, o, caPEM)
	if err != nil {
		return nil, err
	}
	steps := []Step{step}
	nss, err := nssInstall(ctx, o, caPEM)
	return append(steps, nss...), err
}

// Remove takes the lab's CA out of every store Install puts it in; a store without it is
// left as it is.
func Remove(ctx context.Context, o Options) ([]Step, error) {
	sys, err := systemStore()
	if err != nil {
		return nil, err
	}
	step, err := sys.remove(ctx, o)
	if err != nil {
		return nil, err
	}
	steps := []Step{step}
	nss, err := nssRemove(ctx, o)
	return append(steps, nss...), err
}

// State is where the lab's CA is trusted now.
type State struct {
	System bool     `json:"system"`
	NSS    []string `json:"nss,omitempty"`
	// Missing are the NSS databases found without the CA.
	Missing []string `json:"nss_missing,omitempty"`
}

// Check reports where caPEM is trusted, without changing anything.
func Check(ctx context.Context, o Options, caPEM []byte) (State, error) {
	var st State
	sys, err := systemStore()
	if err != nil {
		return st, err
	}
	st.System = sys.has(o, caPEM)
	if _, err := exec.LookPath("certutil"); err != nil {
		return st, nil
	}
	for _, db := range nssDatabases(o.home()) {
		if certutil(ctx, "-L", "-d", db, "-n", o.nickname()) == nil {
			st.NSS = append(st.NSS, db)
		} else {
			st.Missing = append(st.Missing, db)
		}
	}
	return st, nil
}

// store is one system trust store: a folder of anchors and the command that rebuilds the
// bundle from it (Linux), or a keychain (macOS).
type store struct {
	name   string
	dir    string
	update []string
}

// systemStore finds the machine's trust store.
func systemStore() (*store, error) {
	if runtime.GOOS == "darwin" {
		return &store{name: "macOS login keychain"}, nil
	}
	if path, err := exec.LookPath("update-ca-certificates"); err == nil {
		return &store{name: "system (update-ca-certificates)", dir: "/usr/local/share/ca-certificates", update: []string{path}}, nil
	}
	if path, err := exec.LookPath("update-ca-trust"); err == nil {
		return &store{name: "system (update-ca-trust)", dir: "/etc/pki/ca-trust/source/anchors", update: []string{path, "extract"}}, nil
	}
	return nil, errors.New("no system trust store tool found: install ca-certificates (update-ca-certificates or update-ca-trust)")
}

func (s *store) path(o Options) string { return filepath.Join(s.dir, o.fileName()) }

func (s *store) has(o Options, caPEM []byte) bool {
	if s.dir == "" {
		return keychainHas(o) == nil
	}
	cur, err := os.ReadFile(s.path(o))
	return err == nil && bytes.Equal(cur, caPEM)
}

func (s *store) install(ctx context.Context, o Options, caPEM []byte) (Step, error) {
	if s.dir == "" {
		return keychainInstall(ctx, o, caPEM)
	}
	if s.has(o, caPEM) {
		return Step{Store: s.name, Action: "already trusted: " + s.path(o)}, nil
	}
	tmp, err := tempPEM(caPEM)
	if err != nil {
		return Step{}, err
	}
	defer os.Remove(tmp)
	if err := privileged(ctx, "install", "-D", "-m", "0644", tmp, s.path(o)); err != nil {
		return Step{}, err
	}
	if err := privileged(ctx, s.update...); err != nil {
		return Step{}, err
	}
	return Step{Store: s.name, Action: "added " + s.path(o)}, nil
}

func (s *store) remove(ctx context.Context, o Options) (Step, error) {
	if s.dir == "" {
		return keychainRemove(ctx, o)
	}
	if _, err := os.Stat(s.path(o)); errors.Is(err, os.ErrNotExist) {
		return Step{Store: s.name, Action: "not there"}, nil
	}
	if err := privileged(ctx, "rm", "-f", s.path(o)); err != nil {
		return Step{}, err
	}
	if err := privileged(ctx, s.update...); err != nil {
		return Step{}, err
	}
	return Step{Store: s.name, Action: "removed " + s.path(o)}, nil
}

// privileged runs a command that changes the system store, through sudo unless lab runs
// as root.
func privileged(ctx context.Context, args ...string) error {
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			return fmt.Errorf("%s needs root, and sudo is not installed: run lab trust as root", args[0])
		}
		args = append([]string{"sudo"}, args...)
	}
	return run(ctx, args...)
}

// run runs a command with a deadline and returns its output in the error.
func run(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func tempPEM(caPEM []byte) (string, error) {
	f, err := os.CreateTemp("", "lab-ca-*.crt")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(caPEM); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
