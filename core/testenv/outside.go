package testenv

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nexolab/lab/core/kube"
)

// ServeOutside serves handler on this machine as the Service ns/name of the cluster, on
// the port named port, so that a client reaches it through the API server's service
// proxy as it would reach the real server in the cluster: the way to test an API client
// against a test double of a service that cannot run here. It returns once the API
// server proxies to it, and skips the test on a machine without a non-loopback IPv4
// address (the API server refuses to proxy to loopback).
//
// The API server proxies only to an endpoint address that is the IP of the pod the
// endpoint names, so a pod bound to a node that does not exist (nothing runs or updates
// it) stands for the server, with this machine's address in its status.
func ServeOutside(t testing.TB, c *kube.Client, ns, name, port string, handler http.Handler) {
	t.Helper()
	ip := hostIP(t)
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int64
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		handler.ServeHTTP(w, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	if err := standIn(t, c, ns, name, port, ip, int32(l.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatalf("service %s/%s: %v", ns, name, err)
	}
	// The API server learns of new endpoints from its informers, a moment later.
	deadline := time.Now().Add(30 * time.Second)
	for served.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the API server never proxied service %s/%s to %s", ns, name, l.Addr())
		}
		_, _ = c.ProbeService(t.Context(), ns, name, port, "/")
		time.Sleep(100 * time.Millisecond)
	}
}

func hostIP(t testing.TB) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine for the API server to reach")
	return ""
}

// standIn makes the pod, the selector-less Service and the EndpointSlice that lead the
// API server's proxy to ip:target.
func standIn(t testing.TB, c *kube.Client, ns, name, port, ip string, target int32) error {
	ctx, core := t.Context(), c.Kube.CoreV1()
	// A pod needs its namespace's service account, which a controller makes in its time.
	_, err := core.ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	limits := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}
	pod, err := core.Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: "outside-the-cluster", Containers: []corev1.Container{{
			Name: "test-double", Image: "none", Resources: corev1.ResourceRequirements{Limits: limits}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	t.Cleanup(func() { // no kubelet confirms a graceful deletion of this pod
		zero := int64(0)
		_ = core.Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if _, err := core.Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return err
	}
	if _, err := core.Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: port, Port: 80, TargetPort: intstr.FromInt32(target)}}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	ready := true
	_, err = c.Kube.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name}}},
		Ports: []discoveryv1.EndpointPort{{Name: &port, Port: &target}},
	}, metav1.CreateOptions{})
	return err
}
