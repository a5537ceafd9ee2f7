package harbor

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/helm/chartkeys"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

func releaseFor(t *testing.T, req *sdk.Request) helm.Release {
	t.Helper()
	rels, err := New().Releases(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, rels, 1)
	return rels[0]
}

// Every key the plugin sets exists in the chart's reference values, but the containers'
// resources blocks, which values.yaml shows only in comments: those the real chart's
// templates must read.
func TestValuesUseOnlyChartKeys(t *testing.T) {
	r := releaseFor(t, &sdk.Request{Config: defaults(), Lab: sdk.Lab{Domain: "nexo.local"}})
	keys, err := chartkeys.Load(r.Chart.Name, r.Chart.Version)
	require.NoError(t, err)
	ch, err := loader.Load(filepath.Join(testenv.UpstreamCharts(t), "harbor-1.19.1.tgz"))
	require.NoError(t, err)
	var templates strings.Builder
	for _, f := range ch.Templates {
		templates.Write(f.Data)
	}
	for _, unknown := range keys.Unknown(r.Values) {
		assert.True(t, strings.HasSuffix(unknown, ".resources") && strings.Contains(templates.String(), ".Values."+unknown+" "),
			"%s is neither in values.yaml nor read by the chart's templates", unknown)
	}
}

func TestValuesExposeHarborAtItsHost(t *testing.T) {
	cfg := defaults()
	cfg.TrivySkipUpdate = true
	v := releaseFor(t, &sdk.Request{Config: cfg, Lab: sdk.Lab{Domain: "nexo.local"}}).Values
	assert.Equal(t, "https://harbor.nexo.local", v["externalURL"])
	assert.Equal(t, "harbor.nexo.local", dig(v, "expose", "ingress", "hosts", "core"))
	assert.Equal(t, true, dig(v, "trivy", "enabled"))
	assert.Equal(t, true, dig(v, "trivy", "skipUpdate"))
	assert.Equal(t, "40Gi", dig(v, "persistence", "persistentVolumeClaim", "registry", "size"))
}

// The volumes add up to the lab's 50Gi for Harbor.
func TestDefaultVolumesAddUpTo50Gi(t *testing.T) {
	cfg := defaults()
	total := resource.MustParse("0")
	for _, s := range []string{cfg.RegistrySize, cfg.DatabaseSize, cfg.RedisSize, cfg.JobserviceSize, cfg.TrivySize} {
		total.Add(resource.MustParse(s))
	}
	assert.Equal(t, "50Gi", total.String())
}

// What the containers request and may use fits the namespace quota, with room for a
// second core while it rolls out; the footprint to the preflight is that sum.
func TestContainersFitTheQuota(t *testing.T) {
	fp, _ := kube.FootprintOf(containers)
	core := containers[0]
	fits := func(used int64, add, hard string) bool {
		a, h := resource.MustParse(add), resource.MustParse(hard)
		return used+a.MilliValue() <= h.MilliValue()
	}
	assert.True(t, fits(fp.CPURequestMillis, core.CPU, quota.RequestsCPU))
	assert.True(t, fits(fp.CPULimitMillis, core.CPULimit, quota.LimitsCPU))
	assert.True(t, fits(fp.MemoryRequestBytes*1000, core.Memory, quota.RequestsMemory))
	assert.True(t, fits(fp.MemoryLimitBytes*1000, core.MemoryLimit, quota.LimitsMemory))
	assert.Equal(t, fp, New().Info().Footprint)
}

func dig(v map[string]any, path ...string) any {
	var x any = v
	for _, k := range path {
		m, ok := x.(map[string]any)
		if !ok {
			return nil
		}
		x = m[k]
	}
	return x
}

func TestValidateNamesTheBadProject(t *testing.T) {
	cfg := defaults()
	cfg.Projects = []string{"nexo", "Nexo_Apps", "nexo", "a..b"}
	cfg.PullNamespaces = []string{"nexo-local", "Bad NS"}
	cfg.RegistrySize = "lots"
	d := New().Validate(context.Background(), &sdk.Request{Config: cfg})
	got := map[string]string{}
	for _, x := range d {
		got[x.Attribute] = x.Detail
	}
	assert.Contains(t, got["projects[1]"], `"Nexo_Apps" is not a valid Harbor project name`)
	assert.Contains(t, got["projects[2]"], "listed twice")
	assert.Contains(t, got["projects[3]"], `"a..b"`)
	assert.Contains(t, got["pull_namespaces[1]"], "not a namespace name")
	assert.Contains(t, got["registry_size"], "not a volume size")
	assert.Len(t, d, 5)
	assert.Empty(t, New().Validate(context.Background(), &sdk.Request{Config: defaults()}))
}

// reference keys name a Secret or a key in one; they hold no secret.
var (
	secretish = regexp.MustCompile(`(?i)(password|passwd|secret|token|key)`)
	reference = regexp.MustCompile(`(?i)(^existing|name$)`)
)

func secretLooking(key string) bool { return secretish.MatchString(key) && !reference.MatchString(key) }

// assertNoDefaultSecrets checks, after an install, that no default secret of the chart's
// values.yaml (nor Harbor12345, nor not-a-secure-key) is in the values lab renders, in
// any Secret or ConfigMap of the namespace, that the generated ones have the lengths
// Harbor requires, and that every Secret key the workloads read exists.
func assertNoDefaultSecrets(t *testing.T, c *kube.Client, ns string, req *sdk.Request) {
	ctx := t.Context()
	defaults := chartSecretDefaults(t)
	require.Contains(t, defaults, "Harbor12345", "the reference values hold the admin default")
	require.Contains(t, defaults, "not-a-secure-key")
	require.Contains(t, defaults, "changeit")

	r := releaseFor(t, req)
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch v := x.(type) {
		case map[string]any:
			for k, e := range v {
				walk(path+"."+k, e)
			}
		case string:
			key := path[strings.LastIndex(path, ".")+1:]
			if secretLooking(key) {
				assert.NotContains(t, defaults, v, "value %s is the chart's default of %s", path, defaults[v])
				assert.NotEqual(t, "(generated at install)", v, path)
			}
		}
	}
	walk("", r.Values)

	secrets, err := c.Kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	data := map[string]map[string][]byte{}
	for _, s := range secrets.Items {
		if s.Type == "helm.sh/release.v1" { // the release, which holds the chart's own values.yaml
			continue
		}
		data[s.Name] = s.Data
		for k, v := range s.Data {
			assert.NotContains(t, defaults, string(v), "Secret %s key %s is the chart's default of %s", s.Name, k, defaults[string(v)])
		}
	}
	cms, err := c.Kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, cm := range cms.Items {
		for k, v := range cm.Data {
			assert.NotContains(t, defaults, v, "ConfigMap %s key %s", cm.Name, k)
		}
	}
	gen := data[secretsName]
	for k, n := range map[string]int{keySecretKey: 16, keyCore: 16, keyJobservice: 16, keyRegistry: 16, keyCSRF: 32} {
		assert.Len(t, gen[k], n, k)
	}
	assert.True(t, strings.HasPrefix(string(gen[keyRegHtpasswd]), registryUser+":$2"), "a bcrypt htpasswd line")
	assert.Equal(t, string(gen[keyDatabase]), string(data[releaseName+"-database"]["POSTGRES_PASSWORD"]), "the database runs with the generated password")
	assert.Contains(t, string(data[tokenSecret]["tls.crt"]), "BEGIN CERTIFICATE")

	// Every Secret key a workload reads exists: the chart really uses lab's Secrets.
	reads := 0
	check := func(owner string, spec corev1.PodSpec) {
		for _, ctr := range append(spec.InitContainers, spec.Containers...) {
			for _, e := range ctr.Env {
				if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
					reads++
					_, ok := data[ref.SecretKeyRef.Name][ref.SecretKeyRef.Key]
					assert.True(t, ok, "%s reads %s from Secret %s key %s", owner, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
				}
			}
		}
		for _, vol := range spec.Volumes {
			if vol.Secret == nil {
				continue
			}
			for _, it := range vol.Secret.Items {
				reads++
				_, ok := data[vol.Secret.SecretName][it.Key]
				assert.True(t, ok, "%s mounts Secret %s key %s", owner, vol.Secret.SecretName, it.Key)
			}
		}
	}
	deps, err := c.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, d := range deps.Items {
		check(d.Name, d.Spec.Template.Spec)
	}
	sts, err := c.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, s := range sts.Items {
		check(s.Name, s.Spec.Template.Spec)
	}
	assert.Greater(t, reads, 8)
}
