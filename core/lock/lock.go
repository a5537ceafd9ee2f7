// Package lock keeps one writer per lab: a Lease in the lab's cluster (lab-system/lab-lock)
// that apply, destroy, restore and restart hold while they work and renew while they hold
// it. A lease its holder stopped renewing is taken over once it has run out, so a killed
// run never locks the lab for good.
package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Name is the Lease's name in the lab's namespace.
const Name = "lab-lock"

const (
	annPid     = "lab.nexolab.dev/pid"
	annCommand = "lab.nexolab.dev/command"
)

// Duration is how long a lease lasts without a renewal; it is renewed every third of it.
var Duration = 15 * time.Second

// Holder says who holds the lock.
type Holder struct {
	Who     string // user@host
	Pid     int
	Command string
	Since   time.Time
	Renewed time.Time
}

func (h Holder) String() string {
	return fmt.Sprintf("%s (pid %d, %q, since %s, renewed %s ago)", h.Who, h.Pid, h.Command,
		h.Since.Local().Format("15:04:05"), time.Since(h.Renewed).Round(time.Second))
}

// Self is this process as a holder running command.
func Self(command string) Holder {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return Holder{Who: name + "@" + host, Pid: os.Getpid(), Command: command}
}

// HeldError is returned when another writer holds the lock.
type HeldError struct{ Holder Holder }

func (e *HeldError) Error() string {
	return "the lab is locked by " + e.Holder.String() +
		": wait for it to finish, or pass --lock-timeout 5m to wait for the lock"
}

// Lease is a held lock.
type Lease struct {
	kube      kubernetes.Interface
	namespace string
	me        Holder
	version   string
	lost      chan struct{}
	stop      chan struct{}
	done      chan struct{}
}

// Version is the cluster's resource version at which the lease was taken: every write
// of an earlier holder is at or before it, so a read at exactly this version sees them
// all, without the wait a consistent list can have on a watch cache that must catch up.
func (l *Lease) Version() string { return l.version }

// Lost is closed when another writer took the lease over (this one was not renewed in
// time); the work under it should stop.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Acquire takes the lock in namespace (which must exist). When another live writer holds
// it, Acquire fails at once with a HeldError, or with wait > 0 retries until it is free
// or wait has passed; onWait (optional) hears once whom it waits for.
func Acquire(ctx context.Context, kube kubernetes.Interface, namespace string, me Holder, wait time.Duration, onWait func(Holder)) (*Lease, error) {
	me.Since = time.Now().Truncate(time.Microsecond) // as the Lease keeps it
	deadline := time.Now().Add(wait)
	for {
		taken, err := take(ctx, kube, namespace, me)
		var held *HeldError
		if err == nil {
			l := &Lease{kube: kube, namespace: namespace, me: me, version: taken.ResourceVersion,
				lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
			go l.renew()
			return l, nil
		}
		if !errors.As(err, &held) && !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("take the lab lock: %w", err)
		}
		if held != nil && time.Now().After(deadline) {
			if wait > 0 {
				return nil, fmt.Errorf("waited %s: %w", wait, err)
			}
			return nil, err
		}
		if held != nil && onWait != nil {
			onWait(held.Holder)
			onWait = nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// take creates the lease, or takes it over when it has run out. A conflict means someone
// else wrote it in between: the caller tries again.
func take(ctx context.Context, kube kubernetes.Interface, namespace string, me Holder) (*coordv1.Lease, error) {
	leases := kube.CoordinationV1().Leases(namespace)
	cur, err := leases.Get(ctx, Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return leases.Create(ctx, spec(&coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: namespace}}, me), metav1.CreateOptions{})
	}
	if err != nil {
		return nil, err
	}
	if h := holderOf(cur); !expired(cur) {
		return nil, &HeldError{Holder: h}
	}
	return leases.Update(ctx, spec(cur, me), metav1.UpdateOptions{})
}

func spec(l *coordv1.Lease, me Holder) *coordv1.Lease {
	now := metav1.NewMicroTime(time.Now())
	since := metav1.NewMicroTime(me.Since)
	secs := int32(Duration / time.Second)
	id := me.Who
	l.Spec = coordv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs, AcquireTime: &since, RenewTime: &now}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[annPid] = strconv.Itoa(me.Pid)
	l.Annotations[annCommand] = me.Command
	if l.Labels == nil {
		l.Labels = map[string]string{}
	}
	l.Labels["app.kubernetes.io/managed-by"] = "lab"
	return l
}

func holderOf(l *coordv1.Lease) Holder {
	var h Holder
	if l.Spec.HolderIdentity != nil {
		h.Who = *l.Spec.HolderIdentity
	}
	h.Pid, _ = strconv.Atoi(l.Annotations[annPid])
	h.Command = l.Annotations[annCommand]
	if l.Spec.AcquireTime != nil {
		h.Since = l.Spec.AcquireTime.Time
	}
	if l.Spec.RenewTime != nil {
		h.Renewed = l.Spec.RenewTime.Time
	}
	return h
}

// expired: released (no holder) or not renewed within its duration.
func expired(l *coordv1.Lease) bool {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	d := time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	return time.Since(l.Spec.RenewTime.Time) > d
}

// mine reports whether the lease is still held by this process.
func (l *Lease) mine(cur *coordv1.Lease) bool {
	h := holderOf(cur)
	return h.Who == l.me.Who && h.Pid == l.me.Pid && h.Since.Equal(l.me.Since)
}

// renew keeps the lease fresh. Only finding another holder loses it: while the API server
// cannot be reached (a restart stops it) no one else can take the lease either.
func (l *Lease) renew() {
	defer close(l.done)
	tick := time.NewTicker(Duration / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), Duration/3)
		err := l.renewOnce(ctx)
		cancel()
		if errors.Is(err, errTaken) {
			close(l.lost)
			return
		}
	}
}

var errTaken = errors.New("the lab lock was taken by another writer")

func (l *Lease) renewOnce(ctx context.Context) error {
	leases := l.kube.CoordinationV1().Leases(l.namespace)
	cur, err := leases.Get(ctx, Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !l.mine(cur) {
		return errTaken
	}
	now := metav1.NewMicroTime(time.Now())
	cur.Spec.RenewTime = &now
	_, err = leases.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// Release stops renewing and frees the lock if this process still holds it.
func (l *Lease) Release() {
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leases := l.kube.CoordinationV1().Leases(l.namespace)
	cur, err := leases.Get(ctx, Name, metav1.GetOptions{})
	if err != nil || !l.mine(cur) {
		return // gone with its namespace (destroy), or no longer ours
	}
	_ = leases.Delete(ctx, Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &cur.ResourceVersion}})
}

// Holding returns the live holder of the lock, if any, reading without writing.
func Holding(ctx context.Context, kube kubernetes.Interface, namespace string) (*Holder, error) {
	cur, err := kube.CoordinationV1().Leases(namespace).Get(ctx, Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil || expired(cur) {
		return nil, err
	}
	h := holderOf(cur)
	return &h, nil
}
