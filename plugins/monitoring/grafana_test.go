package monitoring

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

// seeded is a Grafana (double) as a lab uses it: the chart's provisioned dashboard and
// data source, and what users made in the UI: nested folders, dashboards, a data source.
func seeded() *grafanaDouble {
	g := newGrafanaDouble("admin", "s3cret-admin-password")
	provisioned(g)
	g.folders["team"] = folder{UID: "team", Title: "Team"}
	g.folders["nexo"] = folder{UID: "nexo", Title: "Nexo", ParentUID: "team"}
	g.addBoard("team-board", "Team board", "team", false)
	g.addBoard("nested", "Nested board", "nexo", false)
	g.addBoard("home", "Home", "", false)
	g.datasources["loki"] = map[string]any{"uid": "loki", "name": "Loki", "type": "loki", "url": "http://loki:3100", "access": "proxy", "readOnly": false}
	return g
}

// provisioned adds what a fresh install provisions from ConfigMaps.
func provisioned(g *grafanaDouble) {
	g.folders["kube"] = folder{UID: "kube", Title: kubeFolder}
	g.addBoard("efa86fd1d0c121a26444b636a3f509a8", "Kubernetes / Compute Resources / Cluster", "kube", true)
	g.datasources["prometheus"] = map[string]any{"uid": "prometheus", "name": "Prometheus", "type": "prometheus", "readOnly": true}
}

func serve(t *testing.T, g *grafanaDouble) *httptest.Server {
	srv := httptest.NewServer(g.handler())
	t.Cleanup(srv.Close)
	return srv
}

// state is what restore must reproduce: folders, and dashboards by uid with their folder
// and content (ids and versions belong to one database).
func state(g *grafanaDouble) (map[string]folder, map[string]map[string]any, map[string]map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	boards := map[string]map[string]any{}
	for uid, b := range g.boards {
		d := map[string]any{"folder": b.folderUID, "provisioned": b.provisioned}
		for k, v := range b.dashboard {
			if k != "id" && k != "version" {
				d[k] = v
			}
		}
		boards[uid] = d
	}
	ds := map[string]map[string]any{}
	for uid, d := range g.datasources {
		c := map[string]any{}
		for k, v := range d {
			if k != "id" {
				c[k] = v
			}
		}
		ds[uid] = c
	}
	folders := map[string]folder{}
	for k, v := range g.folders {
		folders[k] = v
	}
	return folders, boards, ds
}

func backupAndRestore(t *testing.T, source, target *grafanaAPI, sourceDouble, targetDouble *grafanaDouble) {
	ctx := t.Context()
	dir := t.TempDir()
	require.NoError(t, source.login(ctx))
	gi, written, err := backupGrafana(ctx, source, dir)
	require.NoError(t, err)
	assert.Equal(t, grafanaIndex{Folders: 3, Dashboards: 4, Datasources: 2}, gi)
	files, err := listFiles(dir)
	require.NoError(t, err)
	sort.Strings(files)
	assert.ElementsMatch(t, files, written, "the backup names every file it wrote")
	assert.Equal(t, []string{
		"grafana/dashboards/efa86fd1d0c121a26444b636a3f509a8.json", "grafana/dashboards/home.json",
		"grafana/dashboards/nested.json", "grafana/dashboards/team-board.json",
		"grafana/datasources.json", "grafana/folders.json",
	}, files)
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	var folders []folder
	require.NoError(t, readJSON(dir, foldersFile, &folders))
	pos := map[string]int{}
	for i, f := range folders {
		pos[f.UID] = i
	}
	assert.Less(t, pos["team"], pos["nexo"], "parents before children")

	require.NoError(t, target.login(ctx))
	r, read, err := restoreGrafana(ctx, target, dir)
	require.NoError(t, err)
	assert.Equal(t, restored{folders: 3, dashboards: 3, datasources: 1, provisioned: 2}, r)
	assert.ElementsMatch(t, files, read, "the restore names every file it read")
	wantF, wantB, wantD := state(sourceDouble)
	gotF, gotB, gotD := state(targetDouble)
	assert.Equal(t, wantF, gotF)
	assert.Equal(t, wantB, gotB)
	assert.Equal(t, wantD, gotD)

	// A second restore finds everything in place and changes nothing.
	_, _, err = restoreGrafana(ctx, target, dir)
	require.NoError(t, err)
	againF, againB, againD := state(targetDouble)
	assert.Equal(t, gotF, againF)
	assert.Equal(t, gotB, againB)
	assert.Equal(t, gotD, againD)
}

// The backup client against the Grafana API test double, over plain HTTP.
func TestGrafanaBackupRestoreAgainstTestDouble(t *testing.T) {
	src, dst := seeded(), newGrafanaDouble("admin", "s3cret-admin-password")
	provisioned(dst)
	source := newGrafanaAPI(serve(t, src).URL, nil, "admin", "s3cret-admin-password")
	target := newGrafanaAPI(serve(t, dst).URL, nil, "admin", "s3cret-admin-password")
	backupAndRestore(t, source, target, src, dst)

	wrong := newGrafanaAPI(serve(t, src).URL, nil, "admin", "not-it")
	err := wrong.login(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), adminSecret)
}

// The same client through the kwok cluster's real API server: its service proxy forwards
// to a Service whose endpoint is the test double on this machine. The API server
// authenticates the client with the kubeconfig and drops the Authorization header, which
// is why the client logs in and sends Grafana's session cookie instead.
func TestGrafanaClientThroughAPIServerServiceProxy(t *testing.T) {
	ctx := t.Context()
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	ns := "grafana-double"
	require.NoError(t, c.EnsureNamespace(ctx, ns, nil))
	t.Cleanup(func() { _ = c.DeleteNamespace(context.Background(), ns) })

	doubles := map[string]*grafanaDouble{"source": seeded(), "target": newGrafanaDouble("admin", "s3cret-admin-password")}
	provisioned(doubles["target"])
	apis := map[string]*grafanaAPI{}
	for name, d := range doubles {
		testenv.ServeOutside(t, c, ns, name, webPort, d.handler())
		apis[name], err = grafanaThroughAPIServer(c, ns, name, webPort, "admin", "s3cret-admin-password")
		require.NoError(t, err)
		require.NoError(t, apis[name].Do(ctx, http.MethodGet, "/api/health", nil, nil), "the API server proxies to %s", name)
	}
	backupAndRestore(t, apis["source"], apis["target"], doubles["source"], doubles["target"])
	for name, d := range doubles {
		assert.Positive(t, d.requests, name)
		assert.Zero(t, d.authHeaders, "%s: no Authorization header reaches Grafana through the API server", name)
	}
}

// listFiles lists the files under dir, relative to it.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, rel)
		return err
	})
	return out, err
}
