// Package k3dtest gets tests of the k3d path ready to run on this machine: a Docker engine
// that answers and the node images k3d runs, built locally as stand-ins when missing
// (tools/k3dstandin). No image can be pulled here, so a test without them skips.
package k3dtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds the stand-in build: Go builds of three small programs and three
// docker builds FROM scratch.
const buildTimeout = 10 * time.Minute

var (
	once     sync.Once
	standin  bool
	skipWhy  string
	buildErr error
)

// Images skips t unless a Docker engine answers and the images are there (building the
// stand-ins if needed), and reports whether the k3s image is the stand-in, whose nodes are
// simulated by kwok and whose API server is the test cluster's version.
func Images(t testing.TB, k3sImage string) (standIn bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real cluster")
	}
	once.Do(func() { standin, skipWhy, buildErr = prepare(k3sImage) })
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return standin
}

func prepare(k3sImage string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		return false, "needs a Docker engine: " + firstLine(out, err), nil
	}
	script, err := buildScript()
	if err != nil {
		return false, "", err
	}
	out, err := exec.CommandContext(ctx, script).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return false, "needs the k3d stand-in images, which cannot be built here: " + strings.TrimSpace(string(out)), nil
	}
	if err != nil {
		return false, "", errors.New("tools/k3dstandin/build.sh: " + err.Error() + "\n" + string(out))
	}
	labels, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{json .Config.Labels}}", k3sImage).Output()
	if err != nil {
		return false, "", errors.New("docker image inspect " + k3sImage + ": " + err.Error())
	}
	return strings.Contains(string(labels), `"io.nexolab.lab.standin"`), "", nil
}

// buildScript finds tools/k3dstandin/build.sh above the test's folder.
func buildScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "tools", "k3dstandin", "build.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tools/k3dstandin/build.sh not found above the test's folder")
		}
		dir = parent
	}
}

func firstLine(out []byte, err error) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}
