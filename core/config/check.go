package config

import (
	"fmt"
	"regexp"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var (
	namePattern   = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

func validDomain(s string) bool { return len(s) <= 253 && domainPattern.MatchString(s) }

// checkName checks a block label used as a Kubernetes-style name.
func checkName(name string, r hcl.Range, what string) hcl.Diagnostics {
	if namePattern.MatchString(name) && len(name) <= 63 {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what,
		Detail:   fmt.Sprintf("%q must start with a lowercase letter and hold only lowercase letters, digits and hyphens (at most 63).", name),
		Subject:  r.Ptr(),
	}}
}

// stringAttr evaluates an optional string attribute into dst.
func stringAttr(a *hcl.Attribute, ctx *hcl.EvalContext, dst *string) hcl.Diagnostics {
	if a == nil {
		return nil
	}
	v, diags := evalAs(a, ctx, cty.String)
	if diags.HasErrors() || v.IsNull() {
		return diags
	}
	*dst = v.AsString()
	return diags
}

// evalAs evaluates an attribute and converts it to a type, naming the attribute on error.
func evalAs(a *hcl.Attribute, ctx *hcl.EvalContext, ty cty.Type) (cty.Value, hcl.Diagnostics) {
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, hcl.Diagnostics{attrError(a, "Unknown value", fmt.Sprintf("The value of %q is not known.", a.Name))}
	}
	out, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{attrError(a, fmt.Sprintf("Invalid value for %q", a.Name),
			fmt.Sprintf("%s is required: %s.", article(ty), err))}
	}
	return out, nil
}

func article(ty cty.Type) string {
	name := ty.FriendlyName()
	switch name[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + name
	}
	return "a " + name
}

func attrError(a *hcl.Attribute, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail,
		Subject: a.Expr.Range().Ptr(), Context: a.Range.Ptr()}
}

// suggest returns ` Did you mean "x"?` for the closest name, or "".
func suggest(given string, names []string) string {
	best, dist := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(given, n, nil); d < dist {
			best, dist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}
