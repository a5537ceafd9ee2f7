package helmstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Backup writes each ObjectSet into one YAML file of req.Dir (mode 0600: they may hold
// secrets), then the stack's Data.
func (st *Stack[C]) Backup(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	s, err := st.dataSession(req, "backup")
	if err != nil {
		return nil, err
	}
	res := &sdk.Result{}
	var counts []string
	for _, set := range st.spec.Objects {
		n, err := st.backupSet(ctx, s, set)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			res.Files = append(res.Files, set.File)
			counts = append(counts, fmt.Sprintf("%d %s", n, set.Kind))
			req.Emit("backup", "%d %s objects written to %s", n, set.Kind, set.File)
		}
	}
	if d := st.spec.Data; d != nil && d.Backup != nil {
		files, summary, err := d.Backup(ctx, s, req.Dir)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
		counts = append(counts, summary)
	}
	res.Summary = summaryOf("backed up", counts, "nothing to back up")
	return res, nil
}

// dataSession opens the session of a backup or restore, for a stack that has data.
func (st *Stack[C]) dataSession(req *sdk.Request, verb string) (*Session[C], error) {
	if len(st.spec.Objects) == 0 && st.spec.Data == nil {
		return nil, sdk.ErrNotSupported
	}
	if req.Dir == "" {
		return nil, fmt.Errorf("%s: no folder given", verb)
	}
	return st.Session(req, false)
}

func (st *Stack[C]) backupSet(ctx context.Context, s *Session[C], set ObjectSet) (int, error) {
	list, err := s.Kube.Dynamic.Resource(set.GVR).Namespace(st.namespaceOf(s, set)).
		List(ctx, metav1.ListOptions{LabelSelector: set.Selector})
	if err := kube.IgnoreNotFound(err); err != nil {
		return 0, fmt.Errorf("list %s: %w", set.GVR.Resource, err)
	}
	if list == nil {
		return 0, nil
	}
	var docs []string
	for i := range list.Items {
		o := &list.Items[i]
		if len(set.Names) > 0 && !slices.Contains(set.Names, o.GetName()) {
			continue
		}
		clean(o)
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", set.Kind, o.GetName(), err)
		}
		docs = append(docs, string(b))
	}
	if len(docs) == 0 {
		return 0, nil
	}
	path := filepath.Join(s.Req.Dir, set.File)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, err
	}
	return len(docs), atomicfile.Write(path, []byte(strings.Join(docs, "---\n")), 0o600)
}

func (st *Stack[C]) namespaceOf(s *Session[C], set ObjectSet) string {
	if set.Namespace != "" {
		return set.Namespace
	}
	return st.spec.Namespaces(s.Config)[0].Name
}

// Restore applies the objects of each ObjectSet's file (server-side, so objects that
// exist are updated to the backup), in the table's order, then restores the Data.
func (st *Stack[C]) Restore(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	s, err := st.dataSession(req, "restore")
	if err != nil {
		return nil, err
	}
	res := &sdk.Result{}
	var counts []string
	for _, set := range st.spec.Objects {
		n, changed, err := st.restoreSet(ctx, s, set)
		if err != nil {
			return nil, err
		}
		if n >= 0 {
			res.Files = append(res.Files, set.File)
			counts = append(counts, fmt.Sprintf("%d %s", n, set.Kind))
			req.Emit("restore", "%d %s objects restored from %s", n, set.Kind, set.File)
		}
		res.Changed = res.Changed || changed
	}
	if d := st.spec.Data; d != nil && d.Restore != nil {
		files, summary, err := d.Restore(ctx, s, req.Dir)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
		counts = append(counts, summary)
		res.Changed = true
	}
	res.Summary = summaryOf("restored", counts, "nothing to restore")
	return res, nil
}

// restoreSet applies one file; n is -1 when the backup has no such file.
func (st *Stack[C]) restoreSet(ctx context.Context, s *Session[C], set ObjectSet) (n int, changed bool, err error) {
	b, err := os.ReadFile(filepath.Join(s.Req.Dir, set.File))
	if errors.Is(err, os.ErrNotExist) {
		return -1, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	objs, err := kube.Decode(string(b))
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", set.File, err)
	}
	ns := st.namespaceOf(s, set)
	for _, o := range objs {
		if o.GetKind() != set.Kind {
			return 0, false, fmt.Errorf("%s: %s %s is not a %s", set.File, o.GetKind(), o.GetName(), set.Kind)
		}
		clean(o)
		o.SetNamespace(ns)
		ch, err := s.Kube.ApplyObject(ctx, ns, o)
		if err != nil {
			return 0, false, fmt.Errorf("restore: %w", err)
		}
		changed = changed || ch
	}
	return len(objs), changed, nil
}

// clean removes what the API server sets, so the object applies to any cluster: identity
// and bookkeeping, the status, an operation in flight, owners that will not exist.
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

func summaryOf(verb string, parts []string, none string) string {
	if len(parts) == 0 {
		return none
	}
	return verb + " " + strings.Join(parts, ", ")
}
