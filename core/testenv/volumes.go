package testenv

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ProvisionVolumes plays k3s's local-path provisioner, which a kwok cluster lacks, until
// ctx ends: every pending claim of namespace ("" for all) gets a hostPath volume made for
// it (bound to it by name and uid), which the real controller-manager then binds, so the
// pods of databases and registries can be scheduled.
func ProvisionVolumes(ctx context.Context, kc kubernetes.Interface, namespace string) {
	for ctx.Err() == nil {
		bindPending(ctx, kc, namespace)
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func bindPending(ctx context.Context, kc kubernetes.Interface, namespace string) {
	pvcs, err := kc.CoreV1().PersistentVolumeClaims(namespace).List(ctx, metav1.ListOptions{})
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
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: "/mnt/data/" + pvc.Namespace + "-" + pvc.Name}},
			},
		}
		_, _ = kc.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}) // the next round tries again
	}
}
