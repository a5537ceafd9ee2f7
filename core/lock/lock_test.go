package lock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/testenv"
)

var cluster *testenv.Cluster

func TestMain(m *testing.M) { testenv.Main(m, 1, &cluster) }

// namespace makes a namespace of the test's own, so tests do not share a lease.
func namespace(t *testing.T) kubernetes.Interface {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	_, err = c.Kube.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns(t)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	return c.Kube
}

func ns(t *testing.T) string { return "lock-" + strings.ToLower(t.Name()) }

func holder(pid int, cmd string) Holder { return Holder{Who: "tester@box", Pid: pid, Command: cmd} }

func TestSecondWriterFailsNamingTheHolder(t *testing.T) {
	ctx := context.Background()
	kc := namespace(t)
	a, err := Acquire(ctx, kc, ns(t), holder(101, "lab apply"), 0, nil)
	require.NoError(t, err)

	start := time.Now()
	_, err = Acquire(ctx, kc, ns(t), holder(202, "lab destroy"), 0, nil)
	var held *HeldError
	require.ErrorAs(t, err, &held)
	assert.Less(t, time.Since(start), 5*time.Second, "fails at once, without waiting")
	assert.Equal(t, 101, held.Holder.Pid)
	assert.Equal(t, "lab apply", held.Holder.Command)
	assert.Contains(t, err.Error(), "tester@box (pid 101, \"lab apply\", since ")
	assert.Contains(t, err.Error(), "--lock-timeout")

	a.Release()
	_, err = kc.CoordinationV1().Leases(ns(t)).Get(ctx, Name, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "release deletes the lease: %v", err)
	b, err := Acquire(ctx, kc, ns(t), holder(202, "lab destroy"), 0, nil)
	require.NoError(t, err, "free once released")
	b.Release()
}

func TestWaitingWriterGetsTheLockWhenFreed(t *testing.T) {
	ctx := context.Background()
	kc := namespace(t)
	a, err := Acquire(ctx, kc, ns(t), holder(101, "lab apply"), 0, nil)
	require.NoError(t, err)
	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(3 * time.Second)
		a.Release()
		released <- time.Now()
	}()
	var waitedFor []Holder
	b, err := Acquire(ctx, kc, ns(t), holder(202, "lab apply"), time.Minute, func(h Holder) { waitedFor = append(waitedFor, h) })
	require.NoError(t, err)
	got := time.Now()
	require.Len(t, waitedFor, 1, "told once whom it waits for")
	assert.Equal(t, 101, waitedFor[0].Pid)
	defer b.Release()
	assert.False(t, got.Before(<-released), "the waiting writer got the lock only after the first let go")

	// A waiting writer gives up after its timeout, naming the holder.
	_, err = Acquire(ctx, kc, ns(t), holder(303, "lab restore"), 2*time.Second, nil)
	assert.ErrorContains(t, err, "waited 2s: the lab is locked by tester@box (pid 202")
}

func TestStaleLeaseIsTakenOver(t *testing.T) {
	old := Duration
	Duration = 3 * time.Second
	t.Cleanup(func() { Duration = old })
	ctx := context.Background()
	kc := namespace(t)
	a, err := Acquire(ctx, kc, ns(t), holder(101, "lab apply"), 0, nil)
	require.NoError(t, err)
	// The holder dies: it stops renewing without releasing.
	close(a.stop)
	<-a.done

	_, err = Acquire(ctx, kc, ns(t), holder(202, "lab apply"), 0, nil)
	require.Error(t, err, "not yet run out")
	b, err := Acquire(ctx, kc, ns(t), holder(202, "lab apply"), time.Minute, nil)
	require.NoError(t, err, "taken over once the lease ran out")
	defer b.Release()
	cur, err := kc.CoordinationV1().Leases(ns(t)).Get(ctx, Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "202", cur.Annotations[annPid])

	// The old holder, back, finds it lost and does not renew over the new one.
	assert.True(t, errors.Is(a.renewOnce(ctx), errTaken))
	// The new holder keeps renewing past the lease's duration.
	time.Sleep(2 * Duration)
	_, err = Acquire(ctx, kc, ns(t), holder(303, "lab apply"), 0, nil)
	var held *HeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, 202, held.Holder.Pid)
}
