package nexoapps

import (
	"context"
	"sync"
	"testing"

	"github.com/nexolab/lab/core/testenv"
)

var provisioner sync.Once

// playProvisioner makes volumes for the shared namespace's claims (PostgreSQL, Redis) for
// the rest of the test run: a kwok cluster has no provisioner (testenv.ProvisionVolumes).
func playProvisioner(t *testing.T) {
	provisioner.Do(func() { go testenv.ProvisionVolumes(context.Background(), connect(t).Kube, dataNamespace) })
}
