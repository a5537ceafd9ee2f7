package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/nexolab/lab/core/sdk"
)

// fuzzConfig is a stack config with every kind of attribute a plugin can declare.
type fuzzConfig struct {
	Controller string            `hcl:"controller" enum:"nginx,traefik"`
	Replicas   int               `hcl:"replicas" min:"1" max:"5"`
	Retention  string            `hcl:"retention" pattern:"^[0-9]+d$"`
	Token      string            `hcl:"token" sensitive:"true"`
	Tags       []string          `hcl:"tags"`
	Labels     map[string]string `hcl:"labels"`
	Enabled    bool              `hcl:"debug"`
	Files      string            `hcl:"files" path:"true"`
	Envs       map[string]struct {
		Size int `hcl:"size"`
	} `hcl:"environment,block" label:"name"`
}

// R1: no lab.hcl, however broken, makes parsing or decoding panic, and every error names
// file:line:col. Seeded with the invalid (and valid) fixtures; `go test` runs the seeds,
// `go test -fuzz FuzzLoad` explores from them.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"../../e2e/testdata/invalid/*.hcl", "../../e2e/testdata/valid/*.hcl"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	schema, err := sdk.SchemaOf(&fuzzConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if strings.Contains(string(src), "/dev/") || strings.Contains(string(src), "/proc/") {
			t.Skip("file() of a device could block or never end")
		}
		path := filepath.Join(t.TempDir(), "lab.hcl")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan hcl.Diagnostics, 1)
		go func() {
			c, diags := Load(path, Options{Env: []string{}})
			if c != nil {
				for _, s := range c.Enabled() {
					_, d := c.DecodeStack(s, schema)
					diags = append(diags, d...)
				}
			}
			done <- diags
		}()
		select {
		case diags := <-done:
			requirePositions(t, diags)
		case <-time.After(10 * time.Second):
			t.Fatalf("parsing and decoding did not end within 10 s:\n%s", src)
		}
	})
}

func requirePositions(t *testing.T, diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject == nil || d.Subject.Filename == "" || d.Subject.Start.Line < 1 || d.Subject.Start.Column < 1 {
			t.Fatalf("error without file:line:col: %s", Line(d))
		}
	}
}
