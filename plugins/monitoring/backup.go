package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/kube/podexec"
)

// The layout of a backup's folder, beside the kit's ConfigMaps file. Files are 0600,
// folders 0700.
const (
	indexFile       = "index.json"
	configMapsFile  = "kubernetes/configmaps.yaml" // the lab's dashboard ConfigMaps
	foldersFile     = "grafana/folders.json"
	datasourcesFile = "grafana/datasources.json"
	dashboardsDir   = "grafana/dashboards" // one <uid>.json per dashboard, as the API gives it
	tsdbFile        = "prometheus/tsdb-snapshot.tar"
	// backupFormat 2: the ConfigMaps in the kit's configmaps.yaml, not one JSON file each.
	backupFormat = 2
)

// index describes a backup.
type index struct {
	Format  int          `json:"format"`
	Plugin  string       `json:"plugin"`
	Created time.Time    `json:"created"`
	Grafana grafanaIndex `json:"grafana"`
	TSDB    *tsdbIndex   `json:"tsdb,omitempty"`
}

type grafanaIndex struct {
	Skipped     string `json:"skipped,omitempty"`
	Folders     int    `json:"folders"`
	Dashboards  int    `json:"dashboards"`
	Datasources int    `json:"datasources"`
}

type tsdbIndex struct {
	Skipped  string `json:"skipped,omitempty"`
	Snapshot string `json:"snapshot,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
}

// backupData writes Grafana's folders, dashboards and data sources (through its HTTP
// API) and, with backup_tsdb, a Prometheus TSDB snapshot, then the index.
func backupData(ctx context.Context, s *session, dir string) ([]string, string, error) {
	idx := index{Format: backupFormat, Plugin: Version, Created: time.Now().UTC()}
	var files []string
	if s.Simulated() {
		idx.Grafana.Skipped = notRunning("Grafana")
		s.Req.Warn("backup", "Grafana skipped: %s", idx.Grafana.Skipped)
	} else {
		g, err := grafanaFor(ctx, s.Kube, s.Config.Namespace)
		if err != nil {
			return nil, "", err
		}
		if idx.Grafana, files, err = backupGrafana(ctx, g, dir); err != nil {
			return nil, "", fmt.Errorf("Grafana: %w", err)
		}
		s.Req.Emit("backup", "Grafana: %d folders, %d dashboards, %d data sources", idx.Grafana.Folders, idx.Grafana.Dashboards, idx.Grafana.Datasources)
	}
	if s.Config.BackupTSDB {
		var err error
		if idx.TSDB, err = backupTSDB(ctx, s, dir); err != nil {
			return nil, "", err
		}
		if idx.TSDB.Snapshot != "" {
			files = append(files, tsdbFile)
		}
	}
	if err := writeJSON(dir, indexFile, idx); err != nil {
		return nil, "", err
	}
	return append(files, indexFile), fmt.Sprintf("%d dashboards and %d folders of Grafana%s",
		idx.Grafana.Dashboards, idx.Grafana.Folders, tsdbSummary(idx.TSDB)), nil
}

// notRunning says why a backup leaves out what a simulated cluster does not run.
func notRunning(what string) string {
	return "no container runs on a simulated (kwok) cluster: " + what + " does not run"
}

func tsdbSummary(t *tsdbIndex) string {
	switch {
	case t == nil:
		return ""
	case t.Skipped != "":
		return "; TSDB snapshot skipped"
	}
	return fmt.Sprintf("; TSDB snapshot %s (%d bytes)", t.Snapshot, t.Bytes)
}

// restoreData gives back Grafana's folders, data sources and dashboards (the kit has
// restored the ConfigMaps). Provisioned dashboards and data sources come back from their
// ConfigMaps and are left alone. A TSDB snapshot is not loaded back (see the warning).
func restoreData(ctx context.Context, s *session, dir string) ([]string, string, error) {
	var idx index
	if err := readJSON(dir, indexFile, &idx); err != nil {
		return nil, "", fmt.Errorf("not a monitoring backup: %w", err)
	}
	if idx.Format != backupFormat {
		return nil, "", fmt.Errorf("backup format %d; this plugin reads format %d", idx.Format, backupFormat)
	}
	files, summary := []string{indexFile}, "Grafana not restored"
	switch {
	case idx.Grafana.Skipped != "":
		s.Req.Warn("restore", "the backup has no Grafana data: %s", idx.Grafana.Skipped)
	case s.Simulated():
		s.Req.Warn("restore", "Grafana data not restored: %s", notRunning("Grafana"))
	default:
		g, err := grafanaFor(ctx, s.Kube, s.Config.Namespace)
		if err != nil {
			return nil, "", err
		}
		r, read, err := restoreGrafana(ctx, g, dir)
		if err != nil {
			return nil, "", fmt.Errorf("Grafana: %w", err)
		}
		files = append(files, read...)
		summary = fmt.Sprintf("Grafana: %d folders, %d dashboards, %d data sources restored, %d provisioned left alone",
			r.folders, r.dashboards, r.datasources, r.provisioned)
	}
	if idx.TSDB != nil && idx.TSDB.Snapshot != "" {
		s.Req.Warn("restore", "the TSDB snapshot %s (%s) is not loaded back: stop Prometheus, copy the snapshot's block folders into its data folder (/prometheus on the volume %s-db-prometheus-%s-0) and start it again",
			idx.TSDB.Snapshot, tsdbFile, "prometheus", promName)
	}
	return files, summary, nil
}

// grafanaFor opens a Grafana session through the API server, as the generated admin.
func grafanaFor(ctx context.Context, c *kube.Client, ns string) (*grafanaAPI, error) {
	s, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, adminSecret, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("Grafana admin Secret: %w", err)
	}
	g, err := grafanaThroughAPIServer(c, ns, grafanaName, webPort, string(s.Data[kube.UsernameKey]), string(s.Data[kube.PasswordKey]))
	if err != nil {
		return nil, err
	}
	if err := g.login(ctx); err != nil {
		return nil, fmt.Errorf("Grafana: %w", err)
	}
	return g, nil
}

// backupGrafana writes Grafana's folders, data sources and dashboards into dir; it
// returns the files it wrote.
func backupGrafana(ctx context.Context, g *grafanaAPI, dir string) (grafanaIndex, []string, error) {
	var gi grafanaIndex
	folders, err := g.folders(ctx)
	if err != nil {
		return gi, nil, err
	}
	ds, err := g.datasources(ctx)
	if err != nil {
		return gi, nil, err
	}
	refs, err := g.dashboards(ctx)
	if err != nil {
		return gi, nil, err
	}
	files := []string{foldersFile, datasourcesFile}
	if err := writeJSON(dir, foldersFile, folders); err != nil {
		return gi, nil, err
	}
	if err := writeJSON(dir, datasourcesFile, ds); err != nil {
		return gi, nil, err
	}
	for _, r := range refs {
		raw, err := g.dashboard(ctx, r.UID)
		if err != nil {
			return gi, nil, err
		}
		name := filepath.Join(dashboardsDir, fileName(r.UID)+".json")
		if err := atomicfile.Write(filepath.Join(dir, name), raw, 0o600); err != nil {
			return gi, nil, err
		}
		files = append(files, name)
	}
	return grafanaIndex{Folders: len(folders), Dashboards: len(refs), Datasources: len(ds)}, files, nil
}

type restored struct{ folders, dashboards, datasources, provisioned int }

// restoreGrafana puts back what backupGrafana wrote: folders (parents first), data
// sources, then dashboards into their folders. It returns the files it read.
func restoreGrafana(ctx context.Context, g *grafanaAPI, dir string) (restored, []string, error) {
	var r restored
	files := []string{foldersFile, datasourcesFile}
	var folders []folder
	if err := readJSON(dir, foldersFile, &folders); err != nil {
		return r, nil, err
	}
	for _, f := range folders {
		if err := g.ensureFolder(ctx, f); err != nil {
			return r, nil, fmt.Errorf("folder %q: %w", f.Title, err)
		}
		r.folders++
	}
	var ds []map[string]any
	if err := readJSON(dir, datasourcesFile, &ds); err != nil {
		return r, nil, err
	}
	for _, d := range ds {
		if ro, _ := d["readOnly"].(bool); ro {
			r.provisioned++
			continue
		}
		if err := g.ensureDatasource(ctx, d); err != nil {
			return r, nil, fmt.Errorf("data source %v: %w", d["name"], err)
		}
		r.datasources++
	}
	entries, err := os.ReadDir(filepath.Join(dir, dashboardsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, nil, err
	}
	for _, e := range entries {
		name := filepath.Join(dashboardsDir, e.Name())
		files = append(files, name)
		var doc dashboardDoc
		if err := readJSON(dir, name, &doc); err != nil {
			return r, nil, err
		}
		if doc.Meta.Provisioned {
			r.provisioned++
			continue
		}
		if doc.Dashboard == nil {
			return r, nil, fmt.Errorf("%s: no dashboard in it", e.Name())
		}
		if err := g.saveDashboard(ctx, doc.Dashboard, doc.Meta.FolderUID); err != nil {
			return r, nil, fmt.Errorf("dashboard %v: %w", doc.Dashboard["title"], err)
		}
		r.dashboards++
	}
	return r, files, nil
}

// backupTSDB asks Prometheus for a snapshot of its TSDB (the admin API, on with
// backup_tsdb), copies the snapshot out of the Prometheus container as a tar stream
// and deletes it there.
func backupTSDB(ctx context.Context, s *session, dir string) (*tsdbIndex, error) {
	if s.Simulated() {
		t := &tsdbIndex{Skipped: notRunning("Prometheus")}
		s.Req.Warn("backup", "TSDB snapshot skipped: %s", t.Skipped)
		return t, nil
	}
	c, ns := s.Kube, s.Config.Namespace
	prom, err := c.ServiceAPI(ns, promName, webPort)
	if err != nil {
		return nil, err
	}
	var snap struct {
		Status string `json:"status"`
		Data   struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := prom.Do(ctx, http.MethodPost, "/api/v1/admin/tsdb/snapshot", nil, &snap); err != nil {
		return nil, fmt.Errorf("TSDB snapshot (the admin API is on once backup_tsdb is applied): %w", err)
	}
	if snap.Status != "success" || !snapshotName.MatchString(snap.Data.Name) {
		return nil, fmt.Errorf("TSDB snapshot: unexpected answer: status %q, snapshot %q", snap.Status, snap.Data.Name)
	}
	pod := podexec.Pod{Config: c.Config, Kube: c.Kube, Namespace: ns, Name: "prometheus-" + promName + "-0", Container: "prometheus"}
	s.Req.Emit("backup", "copying TSDB snapshot %s out of pod %s", snap.Data.Name, pod.Name)
	path := filepath.Join(dir, tsdbFile)
	copyErr := atomicfile.WriteFrom(path, 0o600, func(w io.Writer) error {
		return pod.Run(ctx, podexec.Command{Args: []string{"tar", "cf", "-", "-C", "/prometheus/snapshots", snap.Data.Name}, Stdout: w})
	})
	// The snapshot's hard links would keep deleted blocks on the volume: remove it.
	if err := pod.Run(ctx, podexec.Command{Args: []string{"rm", "-rf", "/prometheus/snapshots/" + snap.Data.Name}}); err != nil {
		s.Req.Warn("backup", "could not delete snapshot %s in %s: %v", snap.Data.Name, pod.Name, err)
	}
	if copyErr != nil {
		return nil, fmt.Errorf("copy TSDB snapshot: %w", copyErr)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &tsdbIndex{Snapshot: snap.Data.Name, Bytes: st.Size()}, nil
}

var snapshotName = regexp.MustCompile(`^[0-9A-Za-z-]+$`)

var notFile = regexp.MustCompile(`[^-_.a-zA-Z0-9]+`)

// fileName makes a safe file name of a uid.
func fileName(s string) string {
	s = notFile.ReplaceAllString(s, "_")
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

func writeJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, name), append(b, '\n'), 0o600)
}

func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
