package helm

import (
	"slices"
	"strings"

	"github.com/nexolab/lab/core/kube"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// doc is one YAML document of a rendered manifest, with the head fields a line scan read
// from it. Decoding a document costs several times its size (a CRD's schema can be a
// megabyte of YAML), so code that wants a few kinds decodes only those documents.
type doc struct {
	text       string
	apiVersion string
	kind       string // "" when a line scan cannot tell (flow style, several kind lines)
	name       string // metadata.name, "" when not found
}

// splitManifest splits a multi-document manifest at its "---" lines. Documents with
// nothing but comments are dropped.
func splitManifest(manifest string) []doc {
	var docs []doc
	add := func(text string) {
		if d := scanHead(text); d.text != "" {
			docs = append(docs, d)
		}
	}
	start := 0
	for i := 0; i < len(manifest); {
		end := strings.IndexByte(manifest[i:], '\n')
		if end < 0 {
			end = len(manifest)
		} else {
			end += i
		}
		if strings.TrimRight(manifest[i:end], " \t\r") == "---" {
			add(manifest[start:i])
			start = min(end+1, len(manifest))
		}
		i = end + 1
	}
	add(manifest[start:])
	return docs
}

// scanHead reads apiVersion, kind and metadata.name from a document's top-level lines.
// In block-style YAML a key at column 0 is a top-level key (a block scalar's lines are
// indented), so the scan cannot be fooled by content; anything it does not understand
// leaves kind empty, and the caller decodes the document instead.
func scanHead(text string) doc {
	d := doc{text: text}
	content, inMeta, childIndent, kinds, unread := false, false, -1, 0, false
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, " \t\r\n")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		content = true
		indent := len(line) - len(trimmed)
		if indent > 0 {
			if inMeta && childIndent < 0 {
				childIndent = indent
			}
			if inMeta && indent == childIndent && d.name == "" {
				if v, ok := strings.CutPrefix(trimmed, "name:"); ok {
					d.name = scalar(v)
				}
			}
			continue
		}
		inMeta = false
		switch key, value, _ := strings.Cut(line, ":"); key {
		case "kind":
			d.kind, kinds = scalar(value), kinds+1
		case "apiVersion":
			d.apiVersion = scalar(value)
		case "metadata":
			inMeta = strings.TrimSpace(value) == ""
		default:
			// flow style or other syntax a line scan does not follow
			unread = unread || strings.ContainsAny(line[:1], "{[-?&*!|>'\"%@`")
		}
	}
	if !content {
		return doc{}
	}
	if kinds != 1 || unread {
		d.kind = ""
	}
	return d
}

// scalar is a plain or quoted YAML scalar written on one line.
func scalar(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// isCRD reports whether the document is a CustomResourceDefinition a scan fully named.
func (d doc) isCRD() bool {
	return d.kind == "CustomResourceDefinition" && d.apiVersion == "apiextensions.k8s.io/v1" && d.name != ""
}

// objectsOf decodes the objects of a manifest that are of one of kinds, one document at a
// time; a document whose kind the scan could not read is decoded to find out.
func objectsOf(manifest string, kinds ...string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, d := range splitManifest(manifest) {
		if d.kind != "" && !slices.Contains(kinds, d.kind) {
			continue
		}
		objs, err := kube.Decode(d.text)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if slices.Contains(kinds, o.GetKind()) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// hasCRDs reports whether a manifest holds a CustomResourceDefinition. Only a document
// whose kind the scan could not read is decoded; an undecodable one may be a CRD.
func hasCRDs(manifest string) bool {
	for _, d := range splitManifest(manifest) {
		if d.kind == "CustomResourceDefinition" {
			return true
		}
		if d.kind == "" {
			if objs, err := objectsOf(d.text, "CustomResourceDefinition"); err != nil || len(objs) > 0 {
				return true
			}
		}
	}
	return false
}
