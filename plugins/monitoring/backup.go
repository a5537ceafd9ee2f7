package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// The layout of a backup in req.Dir. Files are 0600, folders 0700.
const (
	indexFile       = "index.json"
	grafanaDir      = "grafana"
	foldersFile     = "grafana/folders.json"
	datasourcesFile = "grafana/datasources.json"
	dashboardsDir   = "grafana/dashboards" // one <uid>.json per dashboard, as the API gives it
	configMapsDir   = "kubernetes/configmaps"
	tsdbFile        = "prometheus/tsdb-snapshot.tar"
	backupFormat    = 1
)

// index describes a backup.
type index struct {
	Format     int          `json:"format"`
	Plugin     string       `json:"plugin"`
	Created    time.Time    `json:"created"`
	Grafana    grafanaIndex `json:"grafana"`
	ConfigMaps []string     `json:"configMaps"`
	TSDB       *tsdbIndex   `json:"tsdb,omitempty"`
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

// Backup writes the lab's dashboard ConfigMaps, Grafana's folders, dashboards and data
// sources (through its HTTP API) and, with backup_tsdb, a Prometheus TSDB snapshot.
func (s *Stack) Backup(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	if req.Dir == "" {
		return nil, errors.New("backup: no folder given")
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	idx := index{Format: backupFormat, Plugin: Version, Created: time.Now().UTC()}
	if idx.ConfigMaps, err = backupConfigMaps(ctx, c, cfg.Namespace, req.Dir); err != nil {
		return nil, err
	}
	req.Emit("backup", "%d dashboard ConfigMaps", len(idx.ConfigMaps))
	if req.Cluster.Simulated {
		idx.Grafana.Skipped = simulatedReason + ": Grafana does not run"
		req.Warn("backup", "Grafana skipped: %s", idx.Grafana.Skipped)
	} else {
		g, err := grafanaFor(ctx, c, cfg.Namespace)
		if err != nil {
			return nil, err
		}
		if idx.Grafana, err = backupGrafana(ctx, g, req.Dir); err != nil {
			return nil, err
		}
		req.Emit("backup", "Grafana: %d folders, %d dashboards, %d data sources", idx.Grafana.Folders, idx.Grafana.Dashboards, idx.Grafana.Datasources)
	}
	if cfg.BackupTSDB {
		if idx.TSDB, err = backupTSDB(ctx, c, req, cfg.Namespace); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(req.Dir, indexFile, idx); err != nil {
		return nil, err
	}
	files, err := listFiles(req.Dir)
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Files: files, Summary: fmt.Sprintf("%d dashboards and %d folders of Grafana, %d dashboard ConfigMaps%s",
		idx.Grafana.Dashboards, idx.Grafana.Folders, len(idx.ConfigMaps), tsdbSummary(idx.TSDB))}, nil
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

// Restore gives back the ConfigMaps that are missing and Grafana's folders, data
// sources and dashboards. Provisioned dashboards and data sources come back from their
// ConfigMaps and are left alone. A TSDB snapshot is not loaded back (see the warning).
func (s *Stack) Restore(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := req.Config.(*Config)
	var idx index
	if err := readJSON(req.Dir, indexFile, &idx); err != nil {
		return nil, fmt.Errorf("not a monitoring backup: %w", err)
	}
	if idx.Format != backupFormat {
		return nil, fmt.Errorf("backup format %d; this plugin reads format %d", idx.Format, backupFormat)
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	n, err := restoreConfigMaps(ctx, c, cfg.Namespace, req.Dir, idx.ConfigMaps)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("%d ConfigMaps restored", n)
	switch {
	case idx.Grafana.Skipped != "":
		req.Warn("restore", "the backup has no Grafana data: %s", idx.Grafana.Skipped)
	case req.Cluster.Simulated:
		req.Warn("restore", "Grafana data not restored: %s", simulatedReason)
	default:
		g, err := grafanaFor(ctx, c, cfg.Namespace)
		if err != nil {
			return nil, err
		}
		r, err := restoreGrafana(ctx, g, req.Dir)
		if err != nil {
			return nil, err
		}
		summary += fmt.Sprintf("; Grafana: %d folders, %d dashboards, %d data sources restored, %d provisioned left alone",
			r.folders, r.dashboards, r.datasources, r.provisioned)
	}
	if idx.TSDB != nil && idx.TSDB.Snapshot != "" {
		req.Warn("restore", "the TSDB snapshot %s (%s) is not loaded back: stop Prometheus, copy the snapshot's block folders into its data folder (/prometheus on the volume %s-db-prometheus-%s-0) and start it again",
			idx.TSDB.Snapshot, tsdbFile, "prometheus", promName)
	}
	return &sdk.Result{Changed: true, Summary: summary}, nil
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
	return g, g.login(ctx)
}

// backupGrafana writes Grafana's folders, data sources and dashboards into dir.
func backupGrafana(ctx context.Context, g *grafanaAPI, dir string) (grafanaIndex, error) {
	var gi grafanaIndex
	folders, err := g.folders(ctx)
	if err != nil {
		return gi, err
	}
	if err := writeJSON(dir, foldersFile, folders); err != nil {
		return gi, err
	}
	ds, err := g.datasources(ctx)
	if err != nil {
		return gi, err
	}
	if err := writeJSON(dir, datasourcesFile, ds); err != nil {
		return gi, err
	}
	refs, err := g.dashboards(ctx)
	if err != nil {
		return gi, err
	}
	for _, r := range refs {
		raw, err := g.dashboard(ctx, r.UID)
		if err != nil {
			return gi, err
		}
		if err := writeFile(dir, filepath.Join(dashboardsDir, fileName(r.UID)+".json"), raw); err != nil {
			return gi, err
		}
	}
	return grafanaIndex{Folders: len(folders), Dashboards: len(refs), Datasources: len(ds)}, nil
}

type restored struct{ folders, dashboards, datasources, provisioned int }

// restoreGrafana puts back what backupGrafana wrote: folders (parents first), data
// sources, then dashboards into their folders.
func restoreGrafana(ctx context.Context, g *grafanaAPI, dir string) (restored, error) {
	var r restored
	var folders []folder
	if err := readJSON(dir, foldersFile, &folders); err != nil {
		return r, err
	}
	for _, f := range folders {
		if err := g.ensureFolder(ctx, f); err != nil {
			return r, fmt.Errorf("folder %q: %w", f.Title, err)
		}
		r.folders++
	}
	var ds []map[string]any
	if err := readJSON(dir, datasourcesFile, &ds); err != nil {
		return r, err
	}
	for _, d := range ds {
		if ro, _ := d["readOnly"].(bool); ro {
			r.provisioned++
			continue
		}
		if err := g.ensureDatasource(ctx, d); err != nil {
			return r, fmt.Errorf("data source %v: %w", d["name"], err)
		}
		r.datasources++
	}
	entries, err := os.ReadDir(filepath.Join(dir, dashboardsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, err
	}
	for _, e := range entries {
		var doc dashboardDoc
		if err := readJSON(dir, filepath.Join(dashboardsDir, e.Name()), &doc); err != nil {
			return r, err
		}
		if doc.Meta.Provisioned {
			r.provisioned++
			continue
		}
		if doc.Dashboard == nil {
			return r, fmt.Errorf("%s: no dashboard in it", e.Name())
		}
		if err := g.saveDashboard(ctx, doc.Dashboard, doc.Meta.FolderUID); err != nil {
			return r, fmt.Errorf("dashboard %v: %w", doc.Dashboard["title"], err)
		}
		r.dashboards++
	}
	return r, nil
}

// backupConfigMaps writes the lab's dashboard ConfigMaps, without server-set fields.
func backupConfigMaps(ctx context.Context, c *kube.Client, ns, dir string) ([]string, error) {
	list, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: ownerLabel + "=true," + dashboardLabel})
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, cm := range list.Items {
		out := corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: cm.Name, Labels: cm.Labels, Annotations: cm.Annotations},
			Data:       cm.Data,
		}
		if err := writeJSON(dir, filepath.Join(configMapsDir, cm.Name+".json"), out); err != nil {
			return nil, err
		}
		names = append(names, cm.Name)
	}
	sort.Strings(names)
	return names, nil
}

// restoreConfigMaps creates the backed-up ConfigMaps that are missing; existing ones
// are what the last apply made and stay. The next apply prunes those of files since
// removed from dashboards_dir.
func restoreConfigMaps(ctx context.Context, c *kube.Client, ns, dir string, names []string) (int, error) {
	n := 0
	for _, name := range names {
		var cm corev1.ConfigMap
		if err := readJSON(dir, filepath.Join(configMapsDir, fileName(name)+".json"), &cm); err != nil {
			return n, err
		}
		cm.Namespace = ns
		_, err := c.Kube.CoreV1().ConfigMaps(ns).Create(ctx, &cm, metav1.CreateOptions{FieldManager: kube.FieldManager})
		switch {
		case apierrors.IsAlreadyExists(err):
			continue
		case err != nil:
			return n, fmt.Errorf("ConfigMap %s: %w", name, err)
		}
		n++
	}
	return n, nil
}

// backupTSDB asks Prometheus for a snapshot of its TSDB (the admin API, on with
// backup_tsdb), copies the snapshot out of the Prometheus container as a tar stream
// and deletes it there.
func backupTSDB(ctx context.Context, c *kube.Client, req *sdk.Request, ns string) (*tsdbIndex, error) {
	if req.Cluster.Simulated {
		t := &tsdbIndex{Skipped: simulatedReason + ": Prometheus does not run"}
		req.Warn("backup", "TSDB snapshot skipped: %s", t.Skipped)
		return t, nil
	}
	raw, err := c.Kube.CoreV1().RESTClient().Post().Namespace(ns).Resource("services").
		Name("http:" + promName + ":" + webPort).SubResource("proxy").Suffix("api/v1/admin/tsdb/snapshot").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("TSDB snapshot (POST /api/v1/admin/tsdb/snapshot; the admin API is on once backup_tsdb is applied): %w: %s", err, raw)
	}
	var snap struct {
		Status string `json:"status"`
		Data   struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &snap); err != nil || snap.Status != "success" || !snapshotName.MatchString(snap.Data.Name) {
		return nil, fmt.Errorf("TSDB snapshot: unexpected answer %.200s", raw)
	}
	pod := "prometheus-" + promName + "-0"
	req.Emit("backup", "copying TSDB snapshot %s out of pod %s", snap.Data.Name, pod)
	if err := os.MkdirAll(filepath.Join(req.Dir, filepath.Dir(tsdbFile)), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(req.Dir, tsdbFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: f}
	copyErr := execIn(ctx, c, ns, pod, "prometheus", cw, "tar", "cf", "-", "-C", "/prometheus/snapshots", snap.Data.Name)
	closeErr := f.Close()
	// The snapshot's hard links would keep deleted blocks on the volume: remove it.
	if err := execIn(ctx, c, ns, pod, "prometheus", io.Discard, "rm", "-rf", "/prometheus/snapshots/"+snap.Data.Name); err != nil {
		req.Warn("backup", "could not delete snapshot %s in %s: %v", snap.Data.Name, pod, err)
	}
	if copyErr != nil {
		return nil, fmt.Errorf("copy TSDB snapshot: %w", copyErr)
	}
	if closeErr != nil {
		return nil, closeErr
	}
	return &tsdbIndex{Snapshot: snap.Data.Name, Bytes: cw.n}, nil
}

var snapshotName = regexp.MustCompile(`^[0-9A-Za-z-]+$`)

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// execIn runs a command in a container and streams its standard output to out.
func execIn(ctx context.Context, c *kube.Client, ns, pod, container string, out io.Writer, command ...string) error {
	r := c.Kube.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: command, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	exec, err := remotecommand.NewSPDYExecutor(c.Config, "POST", r.URL())
	if err != nil {
		return err
	}
	var stderr strings.Builder
	if err := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: out, Stderr: &stderr}); err != nil {
		return fmt.Errorf("%s in %s/%s: %w: %s", strings.Join(command, " "), ns, pod, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

var notFile = regexp.MustCompile(`[^-_.a-zA-Z0-9]+`)

// fileName makes a safe file name of a uid or object name.
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
	return writeFile(dir, name, append(b, '\n'))
}

// writeFile writes a file of the backup, readable by its owner only.
func writeFile(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
