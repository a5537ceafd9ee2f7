package logging

import (
	"regexp"
	"strings"
)

// Index name patterns: one index per day, which the lifecycle policy deletes once older
// than the retention.
const (
	appIndex = "app-%{+yyyy.MM.dd}"
	k8sIndex = "k8s-%{+yyyy.MM.dd}"
)

// jsonLine matches a log line that is a JSON object.
const jsonLine = `^\s*\{`

// filebeatConfig is Filebeat's configuration, rendered into the Beat resource; ECK adds
// the connection to Elasticsearch (hosts, user, CA) under output.elasticsearch.
//
// Every container's log file is read with the Kubernetes metadata of its pod. Lines that
// are JSON objects are decoded: in the application namespaces into the event itself
// (their fields are known: level, service, context...), elsewhere under "json", which
// the k8s-* template maps as one flattened field so that components disagreeing on a
// field's type cannot get each other's documents rejected. Events of the application
// namespaces go to app-*, all others to k8s-*. Index templates and the lifecycle policy
// are lab's (through the API), not Filebeat's: its setup knows a single template.
func filebeatConfig(cfg *Config) map[string]any {
	app := appCondition(cfg.AppNamespaces)
	isJSON := map[string]any{"regexp": map[string]any{"message": jsonLine}}
	return map[string]any{
		"filebeat": map[string]any{"inputs": []any{map[string]any{
			"type":                        "filestream",
			"id":                          "kubernetes-containers",
			"paths":                       []any{"/var/log/containers/*.log"},
			"prospector.scanner.symlinks": true,
			"parsers":                     []any{map[string]any{"container": map[string]any{"stream": "all", "format": "auto"}}},
			"processors": []any{map[string]any{"add_kubernetes_metadata": map[string]any{
				"host":     "${NODE_NAME}",
				"matchers": []any{map[string]any{"logs_path": map[string]any{"logs_path": "/var/log/containers/"}}},
			}}},
		}}},
		"processors": []any{
			map[string]any{"decode_json_fields": map[string]any{
				"fields": []any{"message"}, "target": "", "overwrite_keys": true, "add_error_key": true,
				"when": map[string]any{"and": []any{isJSON, app}},
			}},
			map[string]any{"decode_json_fields": map[string]any{
				"fields": []any{"message"}, "target": "json", "add_error_key": true,
				"when": map[string]any{"and": []any{isJSON, map[string]any{"not": app}}},
			}},
		},
		"output": map[string]any{"elasticsearch": map[string]any{
			"indices": []any{map[string]any{"index": appIndex, "when": app}},
			"index":   k8sIndex,
		}},
		"setup": map[string]any{
			"template": map[string]any{"enabled": false},
			"ilm":      map[string]any{"enabled": false},
		},
	}
}

// appCondition matches the events of the application namespaces: a name, or a prefix
// when it ends in *.
func appCondition(namespaces []string) map[string]any {
	var or []any
	for _, ns := range namespaces {
		re := "^" + regexp.QuoteMeta(ns) + "$"
		if prefix, ok := strings.CutSuffix(ns, "*"); ok {
			re = "^" + regexp.QuoteMeta(prefix) + ".*$"
		}
		or = append(or, map[string]any{"regexp": map[string]any{"kubernetes.namespace": re}})
	}
	return map[string]any{"or": or}
}
