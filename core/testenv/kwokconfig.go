package testenv

import (
	"os"
	"path/filepath"
)

// StartKwokWith is StartKwok with a kwok configuration: kwok answers a pod's exec or
// port-forward itself as its ClusterExec or ClusterPortForward objects say, so a test can
// reach a local server through the real API server as if it ran in a pod.
func StartKwokWith(nodes int, kwokConfig string) (*Cluster, error) {
	return startKwok(nodes, kwokConfig)
}

// writeKwokConfig puts the configuration where kwokctl reads it, $KWOK_WORKDIR/kwok.yaml
// (the provider sets KWOK_WORKDIR to the cluster's workdir).
func writeKwokConfig(workdir, config string) error {
	if config == "" {
		return nil
	}
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(workdir, "kwok.yaml"), []byte(config), 0o644)
}
