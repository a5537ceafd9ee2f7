package engine

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/nexolab/lab/core/sdk"
)

// redactHCL returns lab.hcl with the values of the stacks' sensitive attributes and the
// defaults of sensitive variables masked, for a troubleshoot archive. A file that does not
// parse is left out rather than guessed at.
func redactHCL(src []byte, stacks []*Stack) []byte {
	f, diags := hclwrite.ParseConfig(src, "lab.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return []byte("# lab.hcl left out: it does not parse, so its secrets could not be masked\n")
	}
	schemas := map[string]*Stack{}
	for _, s := range stacks {
		schemas[s.Name] = s
	}
	for _, b := range f.Body().Blocks() {
		switch {
		case b.Type() == "variable" && sensitiveVariable(b):
			mask(b.Body(), "default")
		case b.Type() == "stack" && len(b.Labels()) == 1 && schemas[b.Labels()[0]] != nil:
			maskStack(b.Body(), schemas[b.Labels()[0]].Plugin.Schema)
		}
	}
	return f.Bytes()
}

func sensitiveVariable(b *hclwrite.Block) bool {
	a := b.Body().GetAttribute("sensitive")
	return a != nil && strings.TrimSpace(string(a.Expr().BuildTokens(nil).Bytes())) == "true"
}

func maskStack(body *hclwrite.Body, schema []sdk.Attribute) {
	for _, a := range schema {
		if a.Sensitive {
			mask(body, a.Name)
		}
		for _, nb := range body.Blocks() {
			if nb.Type() == a.Name {
				maskStack(nb.Body(), a.Nested)
			}
		}
	}
}

func mask(body *hclwrite.Body, name string) {
	if body.GetAttribute(name) != nil {
		body.SetAttributeValue(name, cty.StringVal("(sensitive)"))
	}
}
