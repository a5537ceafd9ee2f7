package harbor

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

var provisioning sync.Once

// provisionVolumes makes volumes for Harbor's claims for the rest of the test run: a kwok
// cluster has no provisioner (testenv.ProvisionVolumes).
func provisionVolumes(t *testing.T) {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	provisioning.Do(func() { go testenv.ProvisionVolumes(context.Background(), c.Kube, "") })
}
