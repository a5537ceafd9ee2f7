package k3d

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// k3dKubeconfig is shaped like what k3d's KubeconfigGet returns for cluster nexo-local.
func k3dKubeconfig() *clientcmdapi.Config {
	c := clientcmdapi.NewConfig()
	c.Clusters["k3d-nexo-local"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6550", CertificateAuthorityData: []byte("ca")}
	c.AuthInfos["admin@k3d-nexo-local"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("cert"), ClientKeyData: []byte("key")}
	c.Contexts["k3d-nexo-local"] = &clientcmdapi.Context{Cluster: "k3d-nexo-local", AuthInfo: "admin@k3d-nexo-local"}
	c.CurrentContext = "k3d-nexo-local"
	return c
}

// TestSaveKubeconfig: by default only the lab's own file is written, private to the user.
func TestSaveKubeconfig(t *testing.T) {
	p := testProvider(t)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "config"))

	c, err := p.saveKubeconfig(context.Background(), k3dKubeconfig())
	require.NoError(t, err)
	assert.Equal(t, "k3d", c.Provider)
	assert.Equal(t, "k3d-nexo-local", c.Context)

	path := p.KubeconfigPath()
	assert.Equal(t, filepath.Join(os.Getenv("HOME"), ".lab", "nexo", "kubeconfig"), path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	onDisk, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, c.Kubeconfig, onDisk)
	loaded, err := clientcmd.Load(onDisk)
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:6550", loaded.Clusters["k3d-nexo-local"].Server)

	assert.NoFileExists(t, os.Getenv("KUBECONFIG"), "the default kubeconfig is left alone")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, p.forgetKubeconfig(context.Background()))
	assert.NoFileExists(t, path)
}

// TestMergeDefaultKubeconfig: update_default_kubeconfig adds the cluster next to the
// user's other contexts and switches to it only with switch_context.
func TestMergeDefaultKubeconfig(t *testing.T) {
	for _, switchContext := range []bool{false, true} {
		p := testProvider(t)
		p.cfg.UpdateDefaultKubeconfig, p.cfg.SwitchContext = true, switchContext
		def := filepath.Join(t.TempDir(), "config")
		t.Setenv("KUBECONFIG", def)
		other := clientcmdapi.NewConfig()
		other.Clusters["work"] = &clientcmdapi.Cluster{Server: "https://work.example:6443"}
		other.AuthInfos["me"] = &clientcmdapi.AuthInfo{Token: "t"}
		other.Contexts["work"] = &clientcmdapi.Context{Cluster: "work", AuthInfo: "me"}
		other.CurrentContext = "work"
		require.NoError(t, clientcmd.WriteToFile(*other, def))

		_, err := p.saveKubeconfig(context.Background(), k3dKubeconfig())
		require.NoError(t, err)
		merged, err := clientcmd.LoadFromFile(def)
		require.NoError(t, err)
		assert.Contains(t, merged.Contexts, "work")
		assert.Contains(t, merged.Contexts, "k3d-nexo-local")
		want := map[bool]string{false: "work", true: "k3d-nexo-local"}[switchContext]
		assert.Equal(t, want, merged.CurrentContext)

		require.NoError(t, p.forgetKubeconfig(context.Background()))
		left, err := clientcmd.LoadFromFile(def)
		require.NoError(t, err)
		assert.NotContains(t, left.Contexts, "k3d-nexo-local")
		assert.Contains(t, left.Contexts, "work")
	}
}

// TestMergeCreatesDefaultKubeconfig: a machine without ~/.kube/config gets one.
func TestMergeCreatesDefaultKubeconfig(t *testing.T) {
	p := testProvider(t)
	p.cfg.UpdateDefaultKubeconfig = true
	def := filepath.Join(t.TempDir(), "kube", "config")
	t.Setenv("KUBECONFIG", def)
	_, err := p.saveKubeconfig(context.Background(), k3dKubeconfig())
	require.NoError(t, err)
	merged, err := clientcmd.LoadFromFile(def)
	require.NoError(t, err)
	assert.Equal(t, "k3d-nexo-local", merged.CurrentContext)
	fi, err := os.Stat(def)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}
