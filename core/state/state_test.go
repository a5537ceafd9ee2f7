package state

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/lock"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 1, &cluster) }

// A lab-system held by an object's finalizer does not keep DeleteAll waiting past its
// context: it ends with the object and the finalizer named.
func TestDeleteAllNamesWhatHoldsTheNamespace(t *testing.T) {
	ctx := context.Background()
	kc, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	st := New(kc.Kube)
	require.NoError(t, st.Put(ctx, Record{Stack: "alpha", Status: Installed}))
	cms := kc.Kube.CoreV1().ConfigMaps(Namespace)
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held",
		Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = st.DeleteAll(short)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "configmaps/held (finalizers: example.com/hold)")
	assert.Contains(t, err.Error(), "still terminating")

	_, err = cms.Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, st.DeleteAll(ctx), "gone once the finalizer is")
	_, err = kc.Kube.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err))
}

// A writer reads the records at the version it took the lock: every record written or
// deleted before is as it was left, and a later write is not in that reading.
func TestListAtTheLockVersion(t *testing.T) {
	ctx := context.Background()
	kc, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	st := New(kc.Kube)
	for _, name := range []string{"before", "deleted"} {
		require.NoError(t, st.Put(ctx, Record{Stack: name, Status: Installed}))
	}
	require.NoError(t, st.Delete(ctx, "deleted"))
	l, err := lock.Acquire(ctx, kc.Kube, Namespace, lock.Self("test"), 0, nil)
	require.NoError(t, err)
	defer l.Release()
	require.NoError(t, st.Put(ctx, Record{Stack: "after", Status: Installed}))

	at, err := st.ListAt(ctx, l.Version())
	require.NoError(t, err)
	assert.Contains(t, at, "before")
	assert.NotContains(t, at, "deleted")
	assert.NotContains(t, at, "after", "a reading at the lock's version, not of now")
	now, err := st.List(ctx)
	require.NoError(t, err)
	assert.Contains(t, now, "after")
}
