package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// backupSet is one file of a backup: the objects of one kind that make Argo CD's state.
// Argo CD keeps no other data: its redis is a cache and it has no volume, so nothing lives
// on the lab's data folder.
type backupSet struct {
	file string
	kind string
	gvr  schema.GroupVersionResource
	// selector and names narrow the objects; names keeps only those names.
	selector string
	names    map[string]bool
}

// backupSets in restore order: configuration and credentials, then projects, then what
// refers to them.
var backupSets = []backupSet{
	{file: "configmaps.yaml", kind: "ConfigMap", gvr: configMapsGVR, names: map[string]bool{
		"argocd-cm": true, "argocd-cmd-params-cm": true, "argocd-rbac-cm": true, "argocd-ssh-known-hosts-cm": true,
		"argocd-tls-certs-cm": true, "argocd-gpg-keys-cm": true, "argocd-notifications-cm": true,
		"argocd-styles-cm": true, "argocd-cmp-cm": true,
	}},
	{file: "repository-secrets.yaml", kind: "Secret", gvr: secretsGVR,
		selector: secretTypeLabel + " in (repository,repo-creds,repository-write,repo-write-creds,cluster)"},
	{file: "appprojects.yaml", kind: "AppProject", gvr: appProjectsGVR},
	{file: "applicationsets.yaml", kind: "ApplicationSet", gvr: applicationSetsGVR},
	{file: "applications.yaml", kind: "Application", gvr: applicationsGVR},
}

// Backup writes Argo CD's Applications, ApplicationSets, AppProjects, repository and cluster
// credential Secrets and ConfigMaps into req.Dir, one YAML file per kind, readable only by
// the user: the files hold secrets.
func (s *Stack) Backup(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	if req.Dir == "" {
		return nil, errors.New("backup: no folder given")
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	res := &sdk.Result{}
	var counts []string
	for _, set := range backupSets {
		items, err := list(ctx, c, set.gvr, metav1.ListOptions{LabelSelector: set.selector})
		if err != nil {
			return nil, err
		}
		var docs []string
		for i := range items {
			o := &items[i]
			if set.names != nil && !set.names[o.GetName()] {
				continue
			}
			clean(o)
			b, err := yaml.Marshal(o.Object)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", set.kind, o.GetName(), err)
			}
			docs = append(docs, string(b))
		}
		if len(docs) == 0 {
			continue
		}
		path := filepath.Join(req.Dir, set.file)
		if err := writePrivate(path, []byte(strings.Join(docs, "---\n"))); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, set.file)
		counts = append(counts, fmt.Sprintf("%d %s", len(docs), set.kind))
		req.Emit("backup", "%d %s objects written to %s", len(docs), set.kind, set.file)
	}
	res.Summary = "backed up " + strings.Join(counts, ", ")
	if len(counts) == 0 {
		res.Summary = "nothing to back up"
	}
	return res, nil
}

// writePrivate writes a file with mode 0600, whatever the umask or an older file's mode.
func writePrivate(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// clean removes what the API server sets, so the object can be applied to any cluster:
// identity and bookkeeping, the status, an operation in flight, owners that will not exist.
func clean(o *unstructured.Unstructured) {
	for _, f := range []string{"uid", "resourceVersion", "managedFields", "creationTimestamp", "generation",
		"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences"} {
		unstructured.RemoveNestedField(o.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(o.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
	if a := o.GetAnnotations(); a != nil && len(a) == 0 {
		unstructured.RemoveNestedField(o.Object, "metadata", "annotations")
	}
	unstructured.RemoveNestedField(o.Object, "status")
	unstructured.RemoveNestedField(o.Object, "operation")
}

// Restore re-creates the objects of a backup with server-side apply, in dependency order.
// Objects that exist are updated to the backup; others are left alone.
func (s *Stack) Restore(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	if req.Dir == "" {
		return nil, errors.New("restore: no folder given")
	}
	c, err := kube.Connect(req.Cluster, req.Logger())
	if err != nil {
		return nil, err
	}
	res := &sdk.Result{}
	var counts []string
	for _, set := range backupSets {
		b, err := os.ReadFile(filepath.Join(req.Dir, set.file))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		objs, err := kube.Decode(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", set.file, err)
		}
		n := 0
		for _, o := range objs {
			if o.GetKind() != set.kind {
				return nil, fmt.Errorf("%s: %s %s is not a %s", set.file, o.GetKind(), o.GetName(), set.kind)
			}
			clean(o)
			o.SetNamespace(namespace)
			ch, err := c.ApplyObject(ctx, namespace, o)
			if err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
			res.Changed = res.Changed || ch
			n++
		}
		res.Files = append(res.Files, set.file)
		counts = append(counts, fmt.Sprintf("%d %s", n, set.kind))
		req.Emit("restore", "%d %s objects restored from %s", n, set.kind, set.file)
	}
	res.Summary = "restored " + strings.Join(counts, ", ")
	if len(counts) == 0 {
		res.Summary = "nothing to restore"
	}
	return res, nil
}
