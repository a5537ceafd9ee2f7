package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `lab gitops init DIR` takes the domain from lab.hcl and writes the layout; a second
// run over a file the team changed is refused as bad input.
func TestGitopsInit(t *testing.T) {
	dir := t.TempDir()
	hcl := filepath.Join(dir, "lab.hcl")
	if err := os.WriteFile(hcl, []byte("lab \"nexo\" {\n  domain = \"team.test\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "repo")
	run := func(args ...string) error {
		root := newRoot()
		root.SetArgs(args)
		root.SetOut(&strings.Builder{})
		return root.Execute()
	}
	if err := run("gitops", "init", repo, "-f", hcl, "--environments", "develop,qa"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(repo, "apps/nexo-fe/values-qa.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "host: qa.team.test") {
		t.Errorf("values-qa.yaml does not use lab.hcl's domain:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(repo, "apps/nexo-be/values-staging.yaml")); err == nil {
		t.Error("an environment not asked for was written")
	}
	if err := os.WriteFile(filepath.Join(repo, "apps/nexo-fe/values-qa.yaml"), []byte("replicaCount: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run("gitops", "init", repo, "-f", hcl, "--environments", "develop,qa")
	var ee *exitError
	if err == nil || !errors.As(err, &ee) || ee.code != exitInvalid {
		t.Fatalf("changed file: got %v, want a bad-input error", err)
	}
}
