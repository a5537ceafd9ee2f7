// Package chartkeys checks generated Helm values against the keys a chart documents.
//
// Key lists are derived from a chart's values.yaml and values.schema.json (see
// cmd/chartkeys) and embedded here, one file per chart version. A line is a dotted key
// path; a path ending in ".*" marks a free-form map, under which any key is allowed.
package chartkeys

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

//go:embed keys/*.keys
var files embed.FS

// Keys is the set of documented key paths of one chart version.
type Keys struct {
	paths    map[string]bool
	freeForm map[string]bool
}

// Load returns the embedded keys of a chart version.
func Load(chart, version string) (*Keys, error) {
	b, err := files.ReadFile("keys/" + chart + "-" + version + ".keys")
	if err != nil {
		return nil, fmt.Errorf("no key list for chart %s %s: %w", chart, version, err)
	}
	k := &Keys{paths: map[string]bool{}, freeForm: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if p, ok := strings.CutSuffix(line, ".*"); ok {
			k.freeForm[p] = true
			line = p
		}
		k.paths[line] = true
	}
	return k, sc.Err()
}

// Unknown returns the key paths of values the chart does not document, sorted.
// Keys under a free-form map, a list or a documented leaf are not looked into.
// extraFree adds paths the chart's documentation names as free-form.
func (k *Keys) Unknown(values map[string]any, extraFree ...string) []string {
	free := map[string]bool{}
	for p := range k.freeForm {
		free[p] = true
	}
	for _, p := range extraFree {
		free[p] = true
	}
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for key, v := range m {
			path := join(prefix, key)
			if !k.paths[path] {
				out = append(out, path)
				continue
			}
			if sub, ok := v.(map[string]any); ok && !free[path] && k.hasChildren(path) {
				walk(path, sub)
			}
		}
	}
	walk("", values)
	sort.Strings(out)
	return out
}

func (k *Keys) hasChildren(path string) bool {
	for p := range k.paths {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// Extract derives a key list from a chart's values.yaml and, when given, its
// values.schema.json: every map key path, with empty maps and schema objects open to
// additional properties marked free-form.
func Extract(valuesYAML, schemaJSON []byte) ([]string, error) {
	set := map[string]bool{}
	var values map[string]any
	if err := yaml.Unmarshal(valuesYAML, &values); err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for key, v := range m {
			path := join(prefix, key)
			set[path] = true
			if sub, ok := v.(map[string]any); ok {
				if len(sub) == 0 {
					set[path+".*"] = true
				}
				walk(path, sub)
			}
		}
	}
	walk("", values)
	if len(schemaJSON) > 0 {
		var schema map[string]any
		if err := json.Unmarshal(schemaJSON, &schema); err != nil {
			return nil, fmt.Errorf("values.schema.json: %w", err)
		}
		walkSchema("", schema, set)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

func walkSchema(prefix string, node map[string]any, set map[string]bool) {
	props, _ := node["properties"].(map[string]any)
	if prefix != "" && (node["additionalProperties"] == true || (props == nil && isObject(node))) {
		set[prefix+".*"] = true
	}
	for key, v := range props {
		path := join(prefix, key)
		set[path] = true
		if sub, ok := v.(map[string]any); ok {
			walkSchema(path, sub, set)
		}
	}
}

func isObject(node map[string]any) bool {
	switch t := node["type"].(type) {
	case string:
		return t == "object"
	case []any:
		for _, e := range t {
			if e == "object" {
				return true
			}
		}
	}
	return false
}
