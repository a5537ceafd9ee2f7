package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/nexolab/lab/core/atomicfile"
	"github.com/nexolab/lab/core/sdk"
)

// Chart names a chart: an http(s) chart repository, an oci:// registry, or a local folder;
// or it is Embedded in the plugin (go:embed), the chart's folder at the FS's root.
type Chart struct {
	Repository string
	Name       string
	Version    string
	Embedded   fs.FS
}

func (c Chart) String() string {
	if c.Embedded != nil {
		return fmt.Sprintf("%s %s (embedded in the plugin)", c.Name, c.Version)
	}
	return fmt.Sprintf("%s %s from %s", c.Name, c.Version, c.Repository)
}

// Override applies a `chart "<name>" {}` block of lab.hcl to the chart.
func (c Chart) Override(o sdk.ChartOverride) Chart {
	if o.Repository != "" {
		c.Repository, c.Embedded = o.Repository, nil
	}
	if o.Version != "" {
		c.Version = o.Version
	}
	return c
}

// Local reports whether the chart comes from a folder on this machine.
func (c Chart) Local() bool {
	return !strings.Contains(c.Repository, "://")
}

// DefaultCache is the folder for charts and indexes: $LAB_CHART_CACHE, or the user cache folder.
func DefaultCache() string {
	if d := os.Getenv("LAB_CHART_CACHE"); d != "" {
		return d
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "lab", "charts")
}

// Load returns the chart, from the cache when this exact version was fetched before.
func (c *Client) Load(ctx context.Context, ch Chart) (*chart.Chart, error) {
	var (
		loaded *chart.Chart
		err    error
	)
	switch {
	case ch.Local():
		loaded, err = loadLocal(ch)
	case strings.HasPrefix(ch.Repository, "oci://"):
		loaded, err = c.loadOCI(ch)
	default:
		loaded, err = c.loadHTTP(ctx, ch)
	}
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch, err)
	}
	if loaded.Name() != ch.Name {
		return nil, fmt.Errorf("chart %s: found chart %q instead", ch, loaded.Name())
	}
	return loaded, nil
}

// loadLocal takes a chart folder, a folder holding <name>/, or one holding <name>-<version>.tgz.
func loadLocal(ch Chart) (*chart.Chart, error) {
	if ch.Embedded != nil {
		return loadEmbedded(ch.Embedded)
	}
	dir := expandHome(ch.Repository)
	for _, p := range []string{filepath.Join(dir, ch.Name), dir} {
		if exists(filepath.Join(p, "Chart.yaml")) {
			return loader.LoadDir(p)
		}
	}
	if tgz := filepath.Join(dir, ch.Name+"-"+ch.Version+".tgz"); exists(tgz) {
		return loader.LoadFile(tgz)
	}
	return nil, fmt.Errorf("no chart %s in %s", ch.Name, dir)
}

// loadEmbedded loads a chart whose files are the FS.
func loadEmbedded(fsys fs.FS) (*chart.Chart, error) {
	var files []*loader.BufferedFile
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		files = append(files, &loader.BufferedFile{Name: p, Data: b})
		return err
	})
	if err != nil {
		return nil, err
	}
	return loader.LoadFiles(files)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (c *Client) loadOCI(ch Chart) (*chart.Chart, error) {
	cached := c.cachePath(ch)
	if b, err := os.ReadFile(cached); err == nil {
		return loadArchive(b)
	}
	rc, err := registry.NewClient(registry.ClientOptEnableCache(true))
	if err != nil {
		return nil, err
	}
	ref := strings.TrimPrefix(strings.TrimSuffix(ch.Repository, "/"), "oci://") + "/" + ch.Name + ":" + ch.Version
	res, err := rc.Pull(ref, registry.PullOptWithChart(true))
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(cached, res.Chart.Data, 0o644); err != nil {
		return nil, err
	}
	return loadArchive(res.Chart.Data)
}

// loadHTTP reads the repository's index, then downloads and checks the chart archive.
func (c *Client) loadHTTP(ctx context.Context, ch Chart) (*chart.Chart, error) {
	cached := c.cachePath(ch)
	if b, err := os.ReadFile(cached); err == nil {
		return loadArchive(b)
	}
	base := strings.TrimSuffix(ch.Repository, "/") + "/"
	indexBytes, err := fetch(ctx, base+"index.yaml")
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "lab-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(indexBytes); err != nil {
		tmp.Close()
		return nil, err
	}
	tmp.Close()
	idx, err := repo.LoadIndexFile(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("index of %s: %w", ch.Repository, err)
	}
	cv, err := idx.Get(ch.Name, ch.Version)
	if err != nil || len(cv.URLs) == 0 {
		return nil, fmt.Errorf("version %s not in the index of %s", ch.Version, ch.Repository)
	}
	u, err := resolve(base, cv.URLs[0])
	if err != nil {
		return nil, err
	}
	data, err := fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != cv.Digest {
			return nil, fmt.Errorf("%s: checksum does not match the index", u)
		}
	}
	if cv.Version == ch.Version { // only exact versions are cached
		if err := atomicfile.Write(cached, data, 0o644); err != nil {
			return nil, err
		}
	}
	return loadArchive(data)
}

// loadArchive is Helm's LoadArchive with each file's bytes copied to their exact size. Helm
// reads a file into a growing buffer of up to twice its size, and an install holds the
// chart to its end: 2.5 of kube-prometheus-stack's 10 MB in memory were such slack.
func loadArchive(data []byte) (*chart.Chart, error) {
	files, err := loader.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		f.Data = bytes.Clone(f.Data)
	}
	return loader.LoadFiles(files)
}

func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

func fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func (c *Client) cachePath(ch Chart) string {
	sum := sha256.Sum256([]byte(ch.Repository))
	return filepath.Join(c.Cache, hex.EncodeToString(sum[:8]), ch.Name+"-"+ch.Version+".tgz")
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
