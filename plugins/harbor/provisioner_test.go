package harbor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/kube"
)

var provisioning sync.Once

// provisionVolumes plays k3s's local-path provisioner, which a kwok cluster lacks, for
// the rest of the test run: every pending claim, in any namespace, gets a volume made
// for it (bound to it by name and uid), which the real controller-manager then binds,
// so Harbor's pods with volumes can be scheduled.
func provisionVolumes(t *testing.T) {
	c, err := kube.Connect(cluster.Conn, nil)
	require.NoError(t, err)
	provisioning.Do(func() {
		go func() {
			for {
				provisionPending(context.Background(), c)
				time.Sleep(500 * time.Millisecond)
			}
		}()
	})
}

func provisionPending(ctx context.Context, c *kube.Client) {
	pvcs, err := c.Kube.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pvc := range pvcs.Items {
		if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" {
			continue
		}
		class := ""
		if pvc.Spec.StorageClassName != nil {
			class = *pvc.Spec.StorageClassName
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "test-" + string(pvc.UID)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
				AccessModes:                   pvc.Spec.AccessModes,
				StorageClassName:              class,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: "/mnt/data/" + pvc.Namespace + "-" + pvc.Name}},
			},
		}
		if _, err := c.Kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			continue
		}
	}
}
