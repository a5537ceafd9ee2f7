package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/testenv"
)

// renderStack renders the real eck-stack chart with the values the stack gives it, as
// Helm would install it, and returns its objects by kind.
func renderStack(t *testing.T, cfg *Config) map[string]*unstructured.Unstructured {
	t.Helper()
	rels, err := New().Releases(context.Background(), &sdk.Request{Config: cfg, Lab: sdk.Lab{Domain: "nexo.local"}})
	require.NoError(t, err)
	ch, err := loader.Load(filepath.Join(testenv.UpstreamCharts(t), "eck-stack-0.20.0.tgz"))
	require.NoError(t, err)
	in := action.NewInstall(&action.Configuration{})
	in.DryRun, in.ClientOnly, in.ReleaseName, in.Namespace = true, true, stackRelease, cfg.Namespace
	in.KubeVersion = &chartutil.KubeVersion{Version: "v1.33.9", Major: "1", Minor: "33"}
	rel, err := in.Run(ch, rels[1].Values)
	require.NoError(t, err)
	objs, err := kube.Decode(rel.Manifest)
	require.NoError(t, err)
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		out[o.GetKind()] = o
	}
	return out
}

// beatConfig is Filebeat's configuration as it is in the Beat resource.
func beatConfig(t *testing.T, cfg *Config) map[string]any {
	beat := renderStack(t, cfg)["Beat"]
	require.NotNil(t, beat, "the chart makes a Beat")
	assert.Equal(t, "filebeat", beat.Object["spec"].(map[string]any)["type"])
	conf, ok, err := unstructured.NestedMap(beat.Object, "spec", "config")
	require.NoError(t, err)
	require.True(t, ok)
	return conf
}

// A small evaluator of the Filebeat conditions and processors the stack renders, so the
// tests run the rendered rules on events rather than read them as strings. A condition
// it does not know fails the test.
type beat struct {
	t    *testing.T
	conf map[string]any
}

func field(ev map[string]any, path string) (any, bool) {
	var cur any = ev
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (b beat) match(cond map[string]any, ev map[string]any) bool {
	require.Len(b.t, cond, 1, "one condition per map: %v", cond)
	for op, arg := range cond {
		switch op {
		case "or", "and":
			all := op == "and"
			for _, c := range arg.([]any) {
				if b.match(c.(map[string]any), ev) != all {
					return !all
				}
			}
			return all
		case "not":
			return !b.match(arg.(map[string]any), ev)
		case "regexp", "equals":
			for f, want := range arg.(map[string]any) {
				v, ok := field(ev, f)
				if !ok {
					return false
				}
				if op == "equals" {
					return fmt.Sprint(v) == fmt.Sprint(want)
				}
				return regexp.MustCompile(want.(string)).MatchString(fmt.Sprint(v))
			}
		default:
			b.t.Fatalf("condition %q is not known to the test's evaluator", op)
		}
	}
	return false
}

// process runs the global processors (decode_json_fields) on an event.
func (b beat) process(ev map[string]any) map[string]any {
	for _, p := range b.conf["processors"].([]any) {
		for name, arg := range p.(map[string]any) {
			require.Equal(b.t, "decode_json_fields", name)
			opts := arg.(map[string]any)
			if w, ok := opts["when"].(map[string]any); ok && !b.match(w, ev) {
				continue
			}
			for _, f := range opts["fields"].([]any) {
				var decoded map[string]any
				if json.Unmarshal([]byte(fmt.Sprint(ev[f.(string)])), &decoded) != nil {
					ev["error"] = map[string]any{"message": "cannot decode"}
					continue
				}
				dst := ev
				if target := opts["target"].(string); target != "" {
					dst = map[string]any{}
					ev[target] = dst
				}
				for k, v := range decoded {
					if _, exists := dst[k]; !exists || opts["overwrite_keys"] == true {
						dst[k] = v
					}
				}
			}
		}
	}
	return ev
}

var dateFormat = regexp.MustCompile(`%\{\+yyyy\.MM\.dd\}`)

// index is the index the output sends an event to: the first matching rule of
// indices, else index, with the event's date.
func (b beat) index(ev map[string]any, ts time.Time) string {
	out := b.conf["output"].(map[string]any)["elasticsearch"].(map[string]any)
	name := out["index"].(string)
	for _, r := range out["indices"].([]any) {
		rule := r.(map[string]any)
		if b.match(rule["when"].(map[string]any), ev) {
			name = rule["index"].(string)
			break
		}
	}
	return dateFormat.ReplaceAllString(name, ts.UTC().Format("2006.01.02"))
}

func event(namespace, message string) map[string]any {
	return map[string]any{"message": message, "kubernetes": map[string]any{"namespace": namespace, "pod": map[string]any{"name": "p"}}}
}

const appLine = `{"@timestamp":"2026-12-01T10:00:00Z","level":"error","service":"nexo-be","namespace":"nexo-local","pod":"nexo-be-1","message":"payment failed","context":{"order":42}}`

// The applications' events go to app-*, all others to k8s-*; JSON lines are decoded.
func TestFilebeatRoutesAndDecodes(t *testing.T) {
	b := beat{t: t, conf: beatConfig(t, defaults())}
	ts := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	ev := b.process(event("nexo-local", appLine))
	assert.Equal(t, "app-2026.12.01", b.index(ev, ts))
	assert.Equal(t, "error", ev["level"], "an application's JSON fields are the event's")
	assert.Equal(t, "nexo-be", ev["service"])
	assert.Equal(t, "payment failed", ev["message"], "the decoded message replaces the line")
	assert.Equal(t, map[string]any{"order": float64(42)}, ev["context"])
	assert.Equal(t, "nexo-local", ev["kubernetes"].(map[string]any)["namespace"], "the metadata stays")

	ev = b.process(event("nexo-qa", "plain text line"))
	assert.Equal(t, "app-2026.12.01", b.index(ev, ts))
	assert.Equal(t, "plain text line", ev["message"])
	assert.Nil(t, ev["error"], "a line that is not JSON is not decoded")

	ev = b.process(event("kube-system", `{"level":"info","msg":"started"}`))
	assert.Equal(t, "k8s-2026.12.01", b.index(ev, ts))
	assert.Equal(t, map[string]any{"level": "info", "msg": "started"}, ev["json"], "other JSON goes under json")
	assert.Nil(t, ev["level"])

	for _, ns := range []string{"logging", "nexo", "ingress", "default"} {
		assert.Equal(t, "k8s-2026.12.01", b.index(b.process(event(ns, "x")), ts), ns)
	}
	assert.Equal(t, "k8s-2026.12.01", b.index(b.process(map[string]any{"message": "no metadata"}), ts))
}

// app_namespaces takes names and prefixes.
func TestFilebeatAppNamespaces(t *testing.T) {
	cfg := defaults()
	cfg.AppNamespaces = []string{"payments", "shop-*"}
	b := beat{t: t, conf: beatConfig(t, cfg)}
	ts := time.Now()
	for ns, want := range map[string]string{
		"payments": "app-", "payments-x": "k8s-", "shop-eu": "app-", "shop-": "app-", "shop": "k8s-", "nexo-local": "k8s-",
	} {
		assert.True(t, strings.HasPrefix(b.index(b.process(event(ns, "x")), ts), want), "%s goes to %s*", ns, want)
	}
}

// Filebeat reads every node's container logs with the pods' metadata, and leaves the
// templates and the lifecycle policy to lab.
func TestFilebeatInputs(t *testing.T) {
	objs := renderStack(t, defaults())
	conf, _, _ := unstructured.NestedMap(objs["Beat"].Object, "spec", "config")
	in := conf["filebeat"].(map[string]any)["inputs"].([]any)[0].(map[string]any)
	assert.Equal(t, "filestream", in["type"])
	assert.Equal(t, []any{"/var/log/containers/*.log"}, in["paths"])
	assert.Contains(t, fmt.Sprint(in["processors"]), "add_kubernetes_metadata")
	assert.Equal(t, false, conf["setup"].(map[string]any)["template"].(map[string]any)["enabled"])

	ds, _, _ := unstructured.NestedMap(objs["Beat"].Object, "spec", "daemonSet", "podTemplate", "spec")
	assert.Equal(t, []any{map[string]any{"operator": "Exists"}}, ds["tolerations"], "on every node")
	assert.Equal(t, beatName, objs["Beat"].Object["spec"].(map[string]any)["serviceAccountName"])
	assert.NotNil(t, objs["ClusterRoleBinding"])
	assert.Equal(t, esName, objs["Beat"].Object["spec"].(map[string]any)["elasticsearchRef"].(map[string]any)["name"])
}
