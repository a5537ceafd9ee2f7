package logging

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
)

// teardownTimeout bounds the wait for the operator to finish the resources.
const teardownTimeout = 3 * time.Minute

// teardown deletes the Beat, Kibana and Elasticsearch resources while the operator still
// runs, and waits until they are gone, so that no finalizer is left for an operator that
// no longer exists. Elasticsearch's volumes stay (DeleteOnScaledownOnly) unless the data
// is purged, with the namespace; the snapshots on the data folder go with the data too.
func teardown(ctx context.Context, s *session) (bool, error) {
	changed := false
	for _, r := range []eckResource{beatResource, kibanaResource, esResource} {
		deleted, err := s.Kube.Delete(ctx, r.gvr, s.Config.Namespace, r.name)
		if err != nil {
			return changed, err
		}
		if deleted {
			s.Req.Emit("teardown", "deleting %s %s", r.kind, r.name)
			changed = true
		}
	}
	if err := waitGone(ctx, s); err != nil {
		return changed, err
	}
	if s.Req.PurgeData {
		removed, err := removeSnapshots(s)
		if err != nil {
			s.Req.Warn("snapshots", "%v", err)
		}
		changed = changed || removed
	}
	return changed, nil
}

func waitGone(ctx context.Context, s *session) error {
	ctx, cancel := context.WithTimeout(ctx, teardownTimeout)
	defer cancel()
	for {
		var left []string
		for _, r := range eckResources {
			_, err := s.Kube.Dynamic.Resource(r.gvr).Namespace(s.Config.Namespace).Get(ctx, r.name, metav1.GetOptions{})
			switch {
			case err == nil:
				left = append(left, r.kind+" "+r.name)
			case kube.IgnoreNotFound(err) != nil:
				return err
			}
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still there after %s (the operator finishes them; see lab logs elastic-operator -n %s)",
				strings.Join(left, ", "), teardownTimeout, s.Config.Namespace)
		case <-time.After(time.Second):
		}
	}
}

// removeSnapshots deletes the snapshot folder on the host, where the lab's data folder is
// the nodes' /mnt/data (k3d). Elsewhere the folder is on the nodes, out of lab's reach.
func removeSnapshots(s *session) (bool, error) {
	rel, ok := strings.CutPrefix(s.Config.SnapshotPath, "/mnt/data/")
	if !ok || s.Req.Lab.DataDir == "" || s.Req.Cluster.Provider != "k3d" {
		return false, nil
	}
	dir := filepath.Join(s.Req.Lab.DataDir, filepath.FromSlash(rel))
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return false, nil
	}
	s.Req.Emit("snapshots", "deleting the snapshots in %s", dir)
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("the snapshots in %s: %w (delete the folder by hand)", dir, err)
	}
	return true, nil
}
