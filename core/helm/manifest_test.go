package helm

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitManifestReadsEachDocumentsHead(t *testing.T) {
	manifest := `---
# Source: chart/templates/crd.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  labels:
    name: not-this
  name: "widgets.test.lab.io"
spec:
  description: |
    kind: NotAKind
    ---
    name: not-this-either
---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap   # a comment
metadata:
    name: 'settings'
---
# only a comment
---
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "flow"}}
---
apiVersion: v1
kind: Service
kind: Service
metadata: {name: twice}
`
	docs := splitManifest(manifest)
	got := make([][3]string, len(docs))
	for i, d := range docs {
		got[i] = [3]string{d.apiVersion, d.kind, d.name}
	}
	assert.Equal(t, [][3]string{
		{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.test.lab.io"},
		{"v1", "ConfigMap", "settings"},
		{"", "", ""},   // flow style: the caller decodes it
		{"v1", "", ""}, // two kind lines: not trusted
	}, got)
	assert.True(t, docs[0].isCRD())
	assert.Contains(t, docs[0].text, "name: not-this-either", "a block scalar's --- does not split")

	objs, err := objectsOf(manifest, "Secret", "ConfigMap")
	assert.NoError(t, err)
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	assert.Equal(t, []string{"settings", "flow"}, names)
	assert.True(t, hasCRDs(manifest))
	assert.False(t, hasCRDs("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
}
