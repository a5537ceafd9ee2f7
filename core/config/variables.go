package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvPrefix starts the environment variables that set lab.hcl variables: LAB_VAR_<name>.
const EnvPrefix = "LAB_VAR_"

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
}}

// decodeVariables resolves each variable from -var, then LAB_VAR_<name>, then its default.
func decodeVariables(blocks hcl.Blocks, opts Options) (map[string]cty.Value, hcl.Diagnostics) {
	vars := map[string]cty.Value{}
	declared := map[string]*hcl.Block{}
	env := envVars(opts.Env)
	var diags hcl.Diagnostics
	for _, b := range blocks {
		name := b.Labels[0]
		if prev := declared[name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate variable",
				Detail:  fmt.Sprintf("Variable %q is already declared at %s.", name, prev.DefRange),
				Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		declared[name] = b
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid variable name",
				Detail:  fmt.Sprintf("%q is not a valid identifier: use letters, digits, underscores and hyphens, starting with a letter.", name),
				Subject: b.LabelRanges[0].Ptr()})
		}
		v, d := decodeVariable(b, opts.Vars, env)
		diags = append(diags, d...)
		vars[name] = v
	}
	for _, name := range sortedKeys(opts.Vars) {
		if declared[name] == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("-var %s is given but lab.hcl declares no variable %q.%s", name, name, suggest(name, sortedKeys(declared)))})
		}
	}
	return vars, diags
}

func decodeVariable(b *hcl.Block, flags, env map[string]string) (cty.Value, hcl.Diagnostics) {
	name := b.Labels[0]
	content, diags := b.Body.Content(variableSchema)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	ty := cty.DynamicPseudoType
	if a := content.Attributes["type"]; a != nil {
		t, d := typeexpr.TypeConstraint(a.Expr)
		if diags = append(diags, d...); d.HasErrors() {
			return cty.DynamicVal, diags
		}
		ty = t
	}
	raw, source, given := flags[name], "-var "+name, false
	if _, ok := flags[name]; ok {
		given = true
	} else if v, ok := env[name]; ok {
		raw, source, given = v, EnvPrefix+name, true
	}
	if given {
		v, err := parseVarValue(raw, ty)
		if err != nil {
			return cty.DynamicVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("%s: %s", source, err), Subject: b.DefRange.Ptr()})
		}
		return v, diags
	}
	a := content.Attributes["default"]
	if a == nil {
		return cty.DynamicVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
			Detail:  fmt.Sprintf("Variable %q has no default: set it with -var %s=... or %s%s.", name, name, EnvPrefix, name),
			Subject: b.DefRange.Ptr()})
	}
	v, d := a.Expr.Value(nil)
	if diags = append(diags, d...); d.HasErrors() {
		return cty.DynamicVal, diags
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		return cty.DynamicVal, append(diags, attrError(a, "Invalid default value for variable",
			fmt.Sprintf("The default does not match the variable's type: %s.", err)))
	}
	return v, diags
}

// parseVarValue reads a value given outside the file: a string as is for string variables,
// an HCL expression otherwise (numbers, lists, maps).
func parseVarValue(raw string, ty cty.Type) (cty.Value, error) {
	if ty == cty.String || ty == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "value", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags[0].Summary)
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags[0].Detail)
	}
	return convert.Convert(v, ty)
}

func envVars(env []string) map[string]string {
	if env == nil {
		env = os.Environ()
	}
	out := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			out[strings.TrimPrefix(k, EnvPrefix)] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
