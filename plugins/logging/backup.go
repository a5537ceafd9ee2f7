package logging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/sdk"
)

// The files of a backup: what the snapshot is (its data stays in the snapshot
// repository, the data folder on the nodes), and Kibana's saved objects.
const (
	snapshotFile     = "elasticsearch-snapshot.json"
	savedObjectsFile = "kibana-saved-objects.ndjson"
)

// snapshotIndices are what a snapshot holds.
var snapshotIndices = []string{"app-*", "k8s-*"}

// snapshotRecord is the content of snapshotFile.
type snapshotRecord struct {
	Repository string       `json:"repository"`
	Location   string       `json:"location"`
	Snapshot   snapshotInfo `json:"snapshot"`
}

// backup takes a snapshot of the app-* and k8s-* indices into the repository and exports
// Kibana's saved objects.
func backup(ctx context.Context, s *session, dir string) ([]string, string, error) {
	if s.Simulated() {
		return nil, "no Elasticsearch snapshot or Kibana export: they do not run on a simulated (kwok) cluster", nil
	}
	es, err := openElastic(ctx, s)
	if err != nil {
		return nil, "", err
	}
	kb, err := openKibana(ctx, s)
	if err != nil {
		return nil, "", err
	}
	return takeBackup(ctx, es, kb, s.Config, s.Req, dir)
}

// takeBackup writes the snapshot's record and the saved objects into dir.
func takeBackup(ctx context.Context, es *elastic, kb *kibanaAPI, cfg *Config, req *sdk.Request, dir string) ([]string, string, error) {
	if err := es.registerRepository(ctx, repositoryName, snapshotMount); err != nil {
		return nil, "", err
	}
	name := "lab-" + time.Now().UTC().Format("20060102-150405")
	req.Emit("snapshot", "snapshot %s of %v into repository %s", name, snapshotIndices, repositoryName)
	info, err := es.snapshot(ctx, repositoryName, name, snapshotIndices)
	if err != nil {
		return nil, "", err
	}
	rec, err := json.MarshalIndent(snapshotRecord{Repository: repositoryName, Location: cfg.SnapshotPath, Snapshot: info}, "", "  ")
	if err != nil {
		return nil, "", err
	}
	if err := atomicfile.Write(filepath.Join(dir, snapshotFile), rec, 0o600); err != nil {
		return nil, "", err
	}
	objects, err := kb.exportSavedObjects(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := atomicfile.Write(filepath.Join(dir, savedObjectsFile), objects, 0o600); err != nil {
		return nil, "", err
	}
	return []string{snapshotFile, savedObjectsFile},
		fmt.Sprintf("Elasticsearch snapshot %s (%d indices, in %s on the nodes) and Kibana's saved objects", name, len(info.Indices), cfg.SnapshotPath), nil
}

// restore brings back the snapshot's indices (replacing those of the same name) and
// imports the saved objects, replacing those of the same id. Either file may be absent.
func restore(ctx context.Context, s *session, dir string) ([]string, string, error) {
	return restoreBackup(ctx, func() (*elastic, error) { return openElastic(ctx, s) },
		func() (*kibanaAPI, error) { return openKibana(ctx, s) }, dir)
}

// restoreBackup restores what dir holds, connecting only to the services it needs.
func restoreBackup(ctx context.Context, openES func() (*elastic, error), openKB func() (*kibanaAPI, error), dir string) ([]string, string, error) {
	var files []string
	summary := ""
	b, err := os.ReadFile(filepath.Join(dir, snapshotFile))
	switch {
	case err == nil:
		var rec snapshotRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, "", fmt.Errorf("%s: %w", snapshotFile, err)
		}
		es, err := openES()
		if err != nil {
			return nil, "", err
		}
		if err := es.registerRepository(ctx, rec.Repository, snapshotMount); err != nil {
			return nil, "", err
		}
		info, err := es.restore(ctx, rec.Repository, rec.Snapshot.Snapshot, rec.Snapshot.Indices)
		if err != nil {
			return nil, "", err
		}
		files = append(files, snapshotFile)
		summary = fmt.Sprintf("%d indices from snapshot %s", len(info.Indices), rec.Snapshot.Snapshot)
	case !errors.Is(err, os.ErrNotExist):
		return nil, "", err
	}
	b, err = os.ReadFile(filepath.Join(dir, savedObjectsFile))
	switch {
	case err == nil:
		kb, err := openKB()
		if err != nil {
			return nil, "", err
		}
		n, err := kb.importSavedObjects(ctx, b)
		if err != nil {
			return nil, "", err
		}
		files = append(files, savedObjectsFile)
		if summary != "" {
			summary += " and "
		}
		summary += fmt.Sprintf("%d Kibana saved objects", n)
	case !errors.Is(err, os.ErrNotExist):
		return nil, "", err
	}
	if summary == "" {
		summary = "no Elasticsearch snapshot or Kibana export in the backup"
	}
	return files, summary, nil
}
