// Package helmstack is the base of a stack made of Helm charts. A plugin fills in a Spec
// (its config struct, namespaces, a values function, optional steps, checks and a backup
// table) and New turns it into a whole sdk.Stack: Validate, Install, Render, Health,
// Backup, Restore and Uninstall, each the same for every stack.
package helmstack

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Spec is what a plugin says of its stack. C is its config struct; only Info, Defaults,
// Namespaces and Releases are required.
type Spec[C any] struct {
	Info sdk.Info
	// Defaults returns a new config with its defaults set; its `hcl` fields are the schema.
	Defaults func() *C
	// Validate adds what is wrong with a config beyond its schema; it runs before any
	// change, without a cluster.
	Validate func(cfg *C, req *sdk.Request, d *sdk.Diagnostics)
	// Inputs reads what Install needs from this machine (a password file, an environment
	// variable) before anything changes: an error stops Install with nothing touched.
	Inputs func(s *Session[C]) error
	// Namespaces the stack owns; Install makes each with its quota.
	Namespaces func(cfg *C) []Namespace
	// Prepare runs before the charts: generated credentials, Secrets the values refer to,
	// a release to remove first. With s.DryRun (render) it may read but never write.
	Prepare func(ctx context.Context, s *Session[C]) error
	// Releases are the charts and their values, installed in order; the user's `chart`
	// blocks are merged in by chart name.
	Releases func(s *Session[C]) ([]helm.Release, error)
	// Replaced are releases of the stack that the config no longer asks for (the other
	// ingress controller): Install removes them, before Prepare and the releases.
	Replaced func(cfg *C) []helm.Release
	// After runs once the charts are ready (objects of the charts' CRDs); it reports
	// whether it changed anything.
	After func(ctx context.Context, s *Session[C]) (bool, error)
	// Rollouts name the rollout checks of the releases' workloads; without any, each
	// release gets one check, "<release> rollout".
	Rollouts []Rollout
	// Checks adds the stack's own named checks after the rollouts.
	Checks func(ctx context.Context, s *Session[C], h *sdk.Health)
	// Endpoints are the URLs the stack serves.
	Endpoints func(s *Session[C]) []sdk.Endpoint
	// Objects is the backup table: the objects that hold the stack's state, in restore
	// order. Data is the stack's own data beyond objects (a database dump).
	Objects []ObjectSet
	Data    *Data[C]
	// CRDGroups are the API groups whose CRDs the stack's charts own; they go only when
	// the data is purged, since every object of theirs, in any namespace, goes with them.
	// A CRD of such a group that another Helm release installed stays.
	CRDGroups []string
	// Teardown runs first in Uninstall, while the charts' controllers still run (delete
	// custom resources and wait for their finalizers); it reports whether it changed anything.
	Teardown func(ctx context.Context, s *Session[C]) (bool, error)
	// Summary is the line Install reports; a list of the releases when nil.
	Summary func(s *Session[C], rels []sdk.Release) string
}

// Namespace is one namespace of the stack and its quota. Uninstall deletes it, unless it
// holds Data (volumes, a database's passwords) and the data is not purged.
type Namespace struct {
	Name  string
	Quota *kube.Quota
	Data  bool
}

// Rollout is one named rollout check: the workloads of Release (the first release when
// empty) whose app.kubernetes.io/name label, or name, is Name (all of them when empty).
type Rollout struct {
	Check   string
	Release string
	Name    string
	// Optional workloads may be absent (a component the config turned off).
	Optional bool
}

// ObjectSet is one file of a backup: the objects of one resource in one namespace (the
// first of the stack's namespaces when empty), narrowed by a label selector or names.
type ObjectSet struct {
	File      string
	Kind      string
	GVR       schema.GroupVersionResource
	Namespace string
	Selector  string
	Names     []string
}

// Data backs up and restores what is not an object, into and from a folder of the backup.
// Each returns the files it wrote or read, relative to dir, and a summary.
type Data[C any] struct {
	Backup  func(ctx context.Context, s *Session[C], dir string) ([]string, string, error)
	Restore func(ctx context.Context, s *Session[C], dir string) ([]string, string, error)
}
