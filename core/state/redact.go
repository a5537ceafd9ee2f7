package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/nexolab/lab/core/sdk"
)

// Redact takes the values of sensitive attributes out of a stack's config before it is
// recorded: a record is a ConfigMap, readable by anyone who may read ConfigMaps. What
// stays of each is a hash, by attribute path (labelled blocks as block.label.attr), so a
// changed secret is still a change. A config that is not a JSON object is kept out whole.
func Redact(cfg json.RawMessage, schema []sdk.Attribute) (json.RawMessage, map[string]string) {
	if len(cfg) == 0 {
		return cfg, nil
	}
	var values map[string]any
	if err := json.Unmarshal(cfg, &values); err != nil {
		return nil, map[string]string{"": digest(cfg)}
	}
	hashes := map[string]string{}
	redact(values, schema, "", hashes)
	if len(hashes) == 0 {
		return cfg, nil
	}
	out, _ := json.Marshal(values) // decoded from JSON: always encodable
	return out, hashes
}

func redact(values map[string]any, schema []sdk.Attribute, prefix string, hashes map[string]string) {
	for _, a := range schema {
		v, ok := values[a.Name]
		if !ok {
			continue
		}
		if a.Sensitive {
			b, _ := json.Marshal(v)
			hashes[prefix+a.Name] = digest(b)
			delete(values, a.Name)
			continue
		}
		if blocks, ok := v.(map[string]any); ok && a.Type == sdk.TypeBlock {
			for label, body := range blocks {
				if m, ok := body.(map[string]any); ok {
					redact(m, a.Nested, prefix+a.Name+"."+label+".", hashes)
				}
			}
		}
	}
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}
