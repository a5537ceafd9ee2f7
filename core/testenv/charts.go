package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
)

// RepoRoot finds the repository's top folder (the one holding go.work) from the test's
// working folder.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work above the working folder")
		}
		dir = parent
	}
}

// ChartRepo packages the test charts (folders under testdata/charts of the repository)
// into a chart repository with an index.yaml, serves it over HTTP for the test, and
// returns its URL. No names means every chart there.
func ChartRepo(t testing.TB, names ...string) string {
	t.Helper()
	url, stop, err := ServeCharts(t.TempDir(), names...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

// ServeCharts is ChartRepo for TestMain: it builds the repository in dir and returns
// its URL and a function that stops the server.
func ServeCharts(dir string, names ...string) (string, func(), error) {
	root, err := RepoRoot()
	if err != nil {
		return "", nil, err
	}
	src := filepath.Join(root, "testdata", "charts")
	if len(names) == 0 {
		entries, err := os.ReadDir(src)
		if err != nil {
			return "", nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				names = append(names, e.Name())
			}
		}
	}
	for _, n := range names {
		ch, err := loader.LoadDir(filepath.Join(src, n))
		if err != nil {
			return "", nil, fmt.Errorf("test chart %s: %w", n, err)
		}
		if _, err := chartutil.Save(ch, dir); err != nil {
			return "", nil, err
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	idx, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		srv.Close()
		return "", nil, err
	}
	return srv.URL, srv.Close, nil
}

// UpstreamCharts is the folder of the real upstream charts, packaged
// (../shared/refs/upstream-charts beside the repository). A test that proves a stack
// against its real chart calls it and skips, saying why, when the folder is absent (a
// fresh clone); CI always has it.
func UpstreamCharts(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "refs", "upstream-charts")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the real upstream charts are not here (%s): %v", dir, err)
	}
	return dir
}

// UpstreamRepo serves the real upstream charts as an HTTP chart repository for the test
// (the same path as a real repository) and returns its URL; it skips as UpstreamCharts.
func UpstreamRepo(t testing.TB) string {
	t.Helper()
	src := UpstreamCharts(t)
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".tgz" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	idx, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}
