package helm

import (
	"regexp"

	"sigs.k8s.io/yaml"

	"github.com/nexolab/lab/core/sdk"
)

// Merge deep-merges overrides onto base and returns the result; maps merge, the rest
// is replaced. Neither argument is modified.
func Merge(base, overrides map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range overrides {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = Merge(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

var (
	secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|privatekey|apikey|bcrypt)`)
	// keys that name a secret or a key inside one, rather than hold a secret value
	secretRef = regexp.MustCompile(`(?i)(^existing|secretname$|secretref$|keyref$|passwordkey$|userkey$)`)
)

// Masked is printed instead of a secret value.
const Masked = "(sensitive)"

// Mask returns a copy of values with every string under a secret-looking key masked.
func Mask(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		out[k] = maskValue(k, v)
	}
	return out
}

func maskValue(key string, v any) any {
	switch t := v.(type) {
	case map[string]any:
		return Mask(t)
	case []any:
		list := make([]any, len(t))
		for i, e := range t {
			list[i] = maskValue(key, e)
		}
		return list
	case string:
		if secretKey.MatchString(key) && !secretRef.MatchString(key) && t != "" {
			return Masked
		}
	}
	return v
}

// YAML renders values as YAML.
func YAML(values map[string]any) string {
	b, err := yaml.Marshal(values)
	if err != nil {
		return "# " + err.Error()
	}
	return string(b)
}

// Rendered is what `lab render` shows of a release: its chart and its values, masked.
func (r Release) Rendered() sdk.RenderedChart {
	repo := r.Chart.Repository
	if r.Chart.Embedded != nil {
		repo = "(embedded in the plugin)"
	}
	return sdk.RenderedChart{Release: r.Name, Namespace: r.Namespace, Chart: r.Chart.Name,
		Version: r.Chart.Version, Repository: repo, ValuesYAML: YAML(Mask(r.Values))}
}
