package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmkube "helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
)

// Release is a Helm release a stack wants.
type Release struct {
	Name      string
	Namespace string
	Chart     Chart
	Values    map[string]any
	// Timeout bounds the install or upgrade, hooks included; 5 minutes when zero.
	Timeout time.Duration
	// UpgradeCRDs applies the chart's CRDs (its crds/ folders) before an upgrade: Helm
	// installs them only on the first install and never upgrades them.
	UpgradeCRDs bool
}

// Client installs, upgrades and reads Helm releases on a kube.Client's cluster. Only
// plugins run Helm: lab itself (the host) verifies releases by their Secrets' labels
// (kube.Verifier) and never links Helm, whose package initialisation was 16 ms of every
// lab command.
type Client struct {
	*kube.Client
	// Cache is the folder for downloaded charts and repository indexes.
	Cache string
}

// New returns a Helm client on kc's cluster that keeps charts in DefaultCache.
func New(kc *kube.Client) *Client { return &Client{Client: kc, Cache: DefaultCache()} }

func (c *Client) helm(namespace string) (*action.Configuration, error) {
	cfg := new(action.Configuration)
	logf := func(format string, v ...any) { c.Log.Trace(fmt.Sprintf(format, v...)) }
	if err := cfg.Init(restGetter{c.Client, namespace}, namespace, "secret", logf); err != nil {
		return nil, err
	}
	if kc, ok := cfg.KubeClient.(*helmkube.Client); ok {
		cfg.KubeClient = unvalidated{kc}
	}
	return cfg, nil
}

// unvalidated is Helm's Kubernetes client without client-side schema validation. Helm
// validates rendered manifests (and always its hooks) against the OpenAPI documents of
// their API groups, which it downloads and decodes each time: 5 to 12 MB of heap per
// release on the real charts, the largest part of a plugin's peak. The API server checks
// every object Helm sends anyway: a wrong type or value still fails the install with the
// server's message, and an unknown field comes back as the server's warning. Embedding
// the concrete client keeps every optional interface Helm asks its client for.
type unvalidated struct{ *helmkube.Client }

func (u unvalidated) Build(r io.Reader, _ bool) (helmkube.ResourceList, error) {
	return u.Client.Build(r, false)
}

// Deployed returns the last release of a name, or nil when there is none.
func (c *Client) Deployed(name, namespace string) (*release.Release, error) {
	cfg, err := c.helm(namespace)
	if err != nil {
		return nil, err
	}
	rel, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	return rel, err
}

// Apply installs or upgrades a release, only when its chart or values differ from the
// deployed one, then waits for its workloads. It returns what it did.
func (c *Client) Apply(ctx context.Context, req *sdk.Request, r Release) (sdk.Release, error) {
	out := sdk.Release{Name: r.Name, Namespace: r.Namespace, Chart: r.Chart.Name, Version: r.Chart.Version}
	step := "chart " + r.Chart.Name
	cfg, err := c.helm(r.Namespace)
	if err != nil {
		return out, err
	}
	last, err := cfg.Releases.Last(r.Name)
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return out, err
	}
	values, err := normalize(r.Values)
	if err != nil {
		return out, fmt.Errorf("values of %s: %w", r.Name, err)
	}
	var loaded *chart.Chart
	if r.Chart.Local() { // a local chart can change without a new version: compare contents
		if loaded, err = c.Load(ctx, r.Chart); err != nil {
			return out, err
		}
	}
	if last != nil && upToDate(last, r.Chart, values, loaded) {
		missing, err := c.missingWorkloads(ctx, last)
		if err != nil {
			return out, err
		}
		if len(missing) == 0 {
			out.Revision = last.Version
			req.Emit(step, "%s unchanged (revision %d)", r.Name, last.Version)
			return out, c.finish(ctx, req, last, &out)
		}
		req.Warn(step, "%s lost %s; upgrading to re-create it", r.Name, kube.Describe(missing))
	}
	if loaded == nil {
		req.Emit(step, "fetching %s %s", r.Chart.Name, r.Chart.Version)
		if loaded, err = c.Load(ctx, r.Chart); err != nil {
			return out, err
		}
	}
	last, err = c.unstick(cfg, last, req, step)
	if err != nil {
		return out, err
	}
	if last != nil && r.UpgradeCRDs {
		if err := c.applyCRDs(ctx, req, step, loaded); err != nil {
			return out, err
		}
	}
	rel, err := c.run(ctx, cfg, r, loaded, values, last, req, step)
	if err != nil {
		return out, err
	}
	if err := c.settleCRDs(ctx, rel); err != nil {
		return out, err
	}
	out.Revision, out.Changed = rel.Version, true
	return out, c.finish(ctx, req, rel, &out)
}

// finish waits for the release's workloads and names them in out, for later verification.
func (c *Client) finish(ctx context.Context, req *sdk.Request, rel *release.Release, out *sdk.Release) error {
	refs, err := workloadsOf(rel)
	if err != nil {
		return err
	}
	for _, w := range refs {
		out.Workloads = append(out.Workloads, w.Ref())
	}
	return c.WaitWorkloads(ctx, req, "rollout "+rel.Name, refs)
}

func (c *Client) run(ctx context.Context, cfg *action.Configuration, r Release, ch *chart.Chart,
	values map[string]any, last *release.Release, req *sdk.Request, step string) (*release.Release, error) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	if last == nil {
		req.Emit(step, "installing %s %s as %s", ch.Name(), ch.Metadata.Version, r.Name)
		if err := c.createCRDs(ctx, ch); err != nil {
			return nil, fmt.Errorf("install %s: %w", r.Name, err)
		}
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.CreateNamespace, in.Timeout = r.Name, r.Namespace, true, timeout
		in.SkipCRDs = true // made by createCRDs
		in.PostRenderer = crdsFirst{ctx, c, r.Name, r.Namespace}
		rel, err := in.RunWithContext(ctx, ch, values)
		if err != nil {
			return nil, fmt.Errorf("install %s: %w", r.Name, err)
		}
		return rel, nil
	}
	req.Emit(step, "upgrading %s to %s %s", r.Name, ch.Name(), ch.Metadata.Version)
	up := action.NewUpgrade(cfg)
	up.Namespace, up.Timeout, up.MaxHistory = r.Namespace, timeout, 5
	if !hasCRDs(last.Manifest) {
		up.PostRenderer = crdsFirst{ctx, c, r.Name, r.Namespace}
	}
	rel, err := up.RunWithContext(ctx, r.Name, ch, values)
	if err != nil {
		return nil, fmt.Errorf("upgrade %s: %w", r.Name, err)
	}
	return rel, nil
}

// unstick clears a release left pending by an interrupted install or upgrade, so that a
// re-apply converges: a pending first install is removed, a pending upgrade marked failed.
func (c *Client) unstick(cfg *action.Configuration, last *release.Release, req *sdk.Request, step string) (*release.Release, error) {
	if last == nil || !last.Info.Status.IsPending() {
		return last, nil
	}
	req.Warn(step, "release %s was left %s by an interrupted run; recovering", last.Name, last.Info.Status)
	if last.Info.Status == release.StatusPendingInstall && last.Version == 1 {
		un := action.NewUninstall(cfg)
		un.Wait = false
		if _, err := un.Run(last.Name); err != nil {
			return nil, fmt.Errorf("remove interrupted install of %s: %w", last.Name, err)
		}
		return nil, nil
	}
	last.SetStatus(release.StatusFailed, "interrupted; superseded by lab")
	if err := cfg.Releases.Update(last); err != nil {
		return nil, err
	}
	return last, nil
}

// upToDate reports whether the deployed release already has the chart and values.
func upToDate(last *release.Release, want Chart, values map[string]any, loaded *chart.Chart) bool {
	if last.Info == nil || last.Info.Status != release.StatusDeployed || last.Chart == nil || last.Chart.Metadata == nil {
		return false
	}
	md := last.Chart.Metadata
	if md.Name != want.Name || (md.Version != want.Version && loaded == nil) {
		return false
	}
	if loaded != nil && chartDigest(loaded) != chartDigest(last.Chart) {
		return false
	}
	deployed, err := normalize(last.Config)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(deployed, values)
}

// chartDigest hashes what a chart renders from: metadata, templates, values, files.
func chartDigest(ch *chart.Chart) string {
	h := sha256.New()
	md, _ := json.Marshal(ch.Metadata)
	h.Write(md)
	files := append(append([]*chart.File{}, ch.Templates...), ch.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		h.Write([]byte(f.Name))
		h.Write(f.Data)
	}
	v, _ := json.Marshal(ch.Values)
	h.Write(v)
	for _, d := range ch.Dependencies() {
		h.Write([]byte(chartDigest(d)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// normalize turns values into the plain JSON shapes Helm stores, so they compare equal.
func normalize(v map[string]any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(b, &out)
}

// Uninstall removes a release; a missing release is not an error.
func (c *Client) Uninstall(ctx context.Context, name, namespace string) (bool, error) {
	cfg, err := c.helm(namespace)
	if err != nil {
		return false, err
	}
	un := action.NewUninstall(cfg)
	un.Wait = false
	un.Timeout = 2 * time.Minute
	if d, ok := ctx.Deadline(); ok {
		un.Timeout = time.Until(d)
	}
	if _, err := un.Run(name); err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("uninstall %s: %w", name, err)
	}
	return true, nil
}

// ReleaseValues returns the values a release was installed with, or nil when absent.
func (c *Client) ReleaseValues(name, namespace string) (map[string]any, error) {
	rel, err := c.Deployed(name, namespace)
	if err != nil || rel == nil {
		return nil, err
	}
	return rel.Config, nil
}

// applyCRDs server-side applies the CRDs of a chart and its subcharts.
func (c *Client) applyCRDs(ctx context.Context, req *sdk.Request, step string, ch *chart.Chart) error {
	crds := ch.CRDObjects()
	if len(crds) == 0 {
		return nil
	}
	req.Emit(step, "applying %d CRDs of %s", len(crds), ch.Name())
	for _, crd := range crds {
		if _, err := c.ApplyYAML(ctx, "", string(crd.File.Data)); err != nil {
			return fmt.Errorf("CRD %s: %w", crd.Name, err)
		}
	}
	return nil
}
