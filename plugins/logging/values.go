package logging

import (
	"github.com/nexolab/lab/core/helm"
	"github.com/nexolab/lab/core/kube"
)

// The releases and the names of what ECK makes of them.
const (
	operatorRelease = "eck-operator"
	stackRelease    = "eck-stack"
	esName          = "elasticsearch"
	kibanaName      = "kibana"
	beatName        = "filebeat"
	// snapshotMount is where the snapshot folder of the node is in each Elasticsearch pod.
	snapshotMount = "/usr/share/elasticsearch/snapshots"
)

var (
	operatorChart = helm.Chart{Repository: "https://helm.elastic.co", Name: "eck-operator", Version: "3.5.0"}
	stackChart    = helm.Chart{Repository: "https://helm.elastic.co", Name: "eck-stack", Version: "0.20.0"}
)

func releases(s *session) ([]helm.Release, error) {
	ns := s.Config.Namespace
	return []helm.Release{
		{Name: operatorRelease, Namespace: ns, Chart: operatorChart, Values: operatorValues(s)},
		{Name: stackRelease, Namespace: ns, Chart: stackChart, Values: map[string]any{
			"eck-elasticsearch": elasticsearchValues(s.Config),
			"eck-kibana":        kibanaValues(s),
			"eck-beats":         beatValues(s.Config),
		}},
	}, nil
}

// operatorValues watch only the stack's namespace. The validating webhook is left out on
// a simulated cluster, where no container would answer it (its failure policy is Ignore,
// but every request would wait for the timeout first).
func operatorValues(s *session) map[string]any {
	return map[string]any{
		"managedNamespaces": []any{s.Config.Namespace},
		"resources":         operatorPod.Resources(),
		"webhook":           map[string]any{"enabled": !s.Simulated()},
		"telemetry":         map[string]any{"disabled": true},
	}
}

// elasticsearchValues: every node is master and data. Memory maps are off
// (node.store.allow_mmap), so no node's vm.max_map_count needs raising, on k3d or Docker
// Desktop. Volumes stay when the cluster is deleted (DeleteOnScaledownOnly): the data goes
// only with --purge-data. An upgrade adds at most one node at a time (changeBudget), which
// is what the quota is sized for. TLS on the HTTP layer stays as ECK sets it: Kibana and
// Filebeat get its CA through their references, and lab reaches it through the API server.
func elasticsearchValues(cfg *Config) map[string]any {
	claim := map[string]any{
		"accessModes": []any{"ReadWriteOnce"},
		"resources":   map[string]any{"requests": map[string]any{"storage": cfg.StorageSize}},
	}
	if cfg.StorageClass != "" {
		claim["storageClassName"] = cfg.StorageClass
	}
	snapshots := map[string]any{"name": "snapshots", "mountPath": snapshotMount}
	return map[string]any{
		"enabled":                 true,
		"fullnameOverride":        esName,
		"volumeClaimDeletePolicy": "DeleteOnScaledownOnly",
		"updateStrategy":          map[string]any{"changeBudget": map[string]any{"maxSurge": surge, "maxUnavailable": 1}},
		"nodeSets": []any{map[string]any{
			"name":  "default",
			"count": cfg.ElasticsearchNodes,
			"config": map[string]any{
				"node.store.allow_mmap": false,
				"path.repo":             []any{snapshotMount},
			},
			"volumeClaimTemplates": []any{map[string]any{
				"metadata": map[string]any{"name": "elasticsearch-data"},
				"spec":     claim,
			}},
			"podTemplate": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{
					"name":         "elasticsearch",
					"resources":    esPod.Resources(),
					"env":          []any{map[string]any{"name": "ES_JAVA_OPTS", "value": "-Xms" + heap() + " -Xmx" + heap()}},
					"volumeMounts": []any{snapshots},
				}},
				// The node's snapshot folder is made by the kubelet as root; Elasticsearch
				// runs as uid 1000. The image is the Elasticsearch one (ECK's default). A
				// folder that can be neither chowned nor opened up (some Docker Desktop file
				// sharing) does not stop the node: registering the repository then fails
				// with Elasticsearch's reason.
				"initContainers": []any{map[string]any{
					"name":            "snapshot-folder",
					"command":         []any{"sh", "-c", "chown 1000:0 " + snapshotMount + " || chmod 0777 " + snapshotMount + " || true"},
					"securityContext": map[string]any{"runAsUser": 0},
					"volumeMounts":    []any{snapshots},
					"resources":       small(),
				}},
				"volumes": []any{map[string]any{
					"name":     "snapshots",
					"hostPath": map[string]any{"path": cfg.SnapshotPath, "type": "DirectoryOrCreate"},
				}},
			}},
		}},
	}
}

func small() map[string]any {
	return kube.Container{CPU: "10m", Memory: "16Mi", CPULimit: "100m", MemoryLimit: "64Mi"}.Resources()
}

// kibanaValues serve Kibana at kibana.<domain> through the default IngressClass (the
// ingress stack's). Kibana's own TLS is off: the ingress is its only way in, and a TLS
// backend would need controller-specific annotations for nginx and traefik.
func kibanaValues(s *session) map[string]any {
	return map[string]any{
		"enabled":          true,
		"fullnameOverride": kibanaName,
		"count":            kibanaPod.Replicas,
		"elasticsearchRef": map[string]any{"name": esName},
		"http":             map[string]any{"tls": map[string]any{"selfSignedCertificate": map[string]any{"disabled": true}}},
		"config":           map[string]any{"server.publicBaseUrl": kibanaURL(s)},
		"podTemplate": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
			"name":      "kibana",
			"resources": kibanaPod.Resources(),
			// Node's heap inside the container's memory limit.
			"env": []any{map[string]any{"name": "NODE_OPTIONS", "value": "--max-old-space-size=512"}},
		}}}},
		"ingress": map[string]any{
			"enabled":  true,
			"pathType": "Prefix",
			"hosts":    []any{map[string]any{"host": s.Host("kibana"), "path": "/"}},
		},
	}
}

// beatValues run Filebeat on every node (control plane included) as root, to read the
// kubelet's container logs, with the Kubernetes API access its metadata needs. Its
// registry is on the node, so a restarted Filebeat does not ship the same lines twice.
func beatValues(cfg *Config) map[string]any {
	role := "lab-filebeat-" + cfg.Namespace
	hostPath := func(name, path, typ string) map[string]any {
		return map[string]any{"name": name, "hostPath": map[string]any{"path": path, "type": typ}}
	}
	mount := func(name, path string, ro bool) map[string]any {
		return map[string]any{"name": name, "mountPath": path, "readOnly": ro}
	}
	return map[string]any{
		"enabled":          true,
		"fullnameOverride": beatName,
		"type":             "filebeat",
		"elasticsearchRef": map[string]any{"name": esName},
		"config":           filebeatConfig(cfg),
		"daemonSet": map[string]any{"podTemplate": map[string]any{"spec": map[string]any{
			"automountServiceAccountToken": true,
			"dnsPolicy":                    "ClusterFirst",
			"securityContext":              map[string]any{"runAsUser": 0},
			"tolerations":                  []any{map[string]any{"operator": "Exists"}},
			"containers": []any{map[string]any{
				"name":      "filebeat",
				"resources": filebeatPod.Resources(),
				"env": []any{map[string]any{"name": "NODE_NAME",
					"valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "spec.nodeName"}}}},
				"volumeMounts": []any{
					mount("varlogcontainers", "/var/log/containers", true),
					mount("varlogpods", "/var/log/pods", true),
					mount("beat-data", "/usr/share/filebeat/data", false),
				},
			}},
			"volumes": []any{
				hostPath("varlogcontainers", "/var/log/containers", ""),
				hostPath("varlogpods", "/var/log/pods", ""),
				hostPath("beat-data", "/var/lib/lab-filebeat/"+cfg.Namespace, "DirectoryOrCreate"),
			},
		}}},
		"serviceAccount": map[string]any{"name": beatName},
		"clusterRole": map[string]any{"name": role, "rules": []any{
			map[string]any{"apiGroups": []any{""}, "resources": []any{"pods", "namespaces", "nodes"},
				"verbs": []any{"get", "watch", "list"}},
			map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"replicasets"},
				"verbs": []any{"get", "watch", "list"}},
		}},
		"clusterRoleBinding": map[string]any{
			"name":     role,
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": beatName}},
			"roleRef":  map[string]any{"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
		},
	}
}
