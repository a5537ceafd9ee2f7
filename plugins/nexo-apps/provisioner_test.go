package nexoapps

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var provisioner sync.Once

// playProvisioner stands in for k3s's local-path provisioner, which kwok does not run:
// each pending claim of the shared namespace gets a volume made for it, which the real
// controller-manager then binds, so PostgreSQL's and Redis's pods can be scheduled.
func playProvisioner(t *testing.T) {
	provisioner.Do(func() {
		kc := connect(t).Kube
		go func() {
			for {
				bindPending(context.Background(), kc)
				time.Sleep(300 * time.Millisecond)
			}
		}()
	})
}

func bindPending(ctx context.Context, kc kubernetes.Interface) {
	pvcs, err := kc.CoreV1().PersistentVolumeClaims(dataNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pvc := range pvcs.Items {
		if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.StorageClassName == nil {
			continue
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pv-" + string(pvc.UID)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
				AccessModes:                   pvc.Spec.AccessModes,
				StorageClassName:              *pvc.Spec.StorageClassName,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				ClaimRef:                      &corev1.ObjectReference{Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: "/mnt/data/" + pvc.Namespace + "-" + pvc.Name}},
			},
		}
		if _, err := kc.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			continue
		}
	}
}
