package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/nexolab/lab/core/sdk"
)

// Attributes and blocks every stack block accepts, whatever its plugin.
var stackSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "depends_on"}, {Name: "timeout"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "chart", LabelNames: []string{"name"}}},
}

var chartSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "repository"}, {Name: "version"}, {Name: "values"},
}}

// DefaultTimeout bounds one stack's install when its block sets no timeout.
const DefaultTimeout = 10 * time.Minute

// reserved are the names a plugin's schema may not use.
var reserved = []string{"enabled", "depends_on", "timeout", "chart"}

func (c *Config) decodeStacks(blocks hcl.Blocks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]*Stack{}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev := seen[name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate stack block",
				Detail:  fmt.Sprintf("Stack %q is already declared at %s.", name, prev.DefRange),
				Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		s, d := c.decodeStack(b)
		diags = append(diags, d...)
		seen[name] = s
		c.Stacks = append(c.Stacks, s)
	}
	for _, s := range c.Stacks {
		for _, dep := range s.DependsOn {
			if seen[dep] == nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown dependency",
					Detail:  fmt.Sprintf("Stack %q depends on %q, which lab.hcl does not declare.%s", s.Name, dep, suggest(dep, sortedKeys(seen))),
					Subject: s.DependsOnRange.Ptr()})
			}
		}
	}
	return diags
}

func (c *Config) decodeStack(b *hcl.Block) (*Stack, hcl.Diagnostics) {
	s := &Stack{Name: b.Labels[0], Enabled: true, Timeout: DefaultTimeout, DefRange: b.DefRange,
		Charts: map[string]sdk.ChartOverride{}}
	diags := checkName(s.Name, b.LabelRanges[0], "stack name")
	content, remain, d := b.Body.PartialContent(stackSchema)
	if diags = append(diags, d...); d.HasErrors() {
		return s, diags
	}
	s.body = remain
	if a := content.Attributes["enabled"]; a != nil {
		v, d := evalAs(a, c.ctx, cty.Bool)
		if diags = append(diags, d...); !d.HasErrors() {
			s.Enabled = v.True()
		}
	}
	if a := content.Attributes["depends_on"]; a != nil {
		s.DependsOnRange = a.Expr.Range()
		v, d := evalAs(a, c.ctx, cty.List(cty.String))
		if diags = append(diags, d...); !d.HasErrors() {
			for _, e := range v.AsValueSlice() {
				s.DependsOn = append(s.DependsOn, e.AsString())
			}
		}
	}
	if a := content.Attributes["timeout"]; a != nil {
		diags = append(diags, decodeDuration(a, c.ctx, &s.Timeout)...)
	}
	for _, cb := range content.Blocks {
		diags = append(diags, c.decodeChart(s, cb)...)
	}
	return s, diags
}

func decodeDuration(a *hcl.Attribute, ctx *hcl.EvalContext, dst *time.Duration) hcl.Diagnostics {
	v, diags := evalAs(a, ctx, cty.String)
	if diags.HasErrors() {
		return diags
	}
	d, err := time.ParseDuration(v.AsString())
	if err != nil || d <= 0 {
		return hcl.Diagnostics{attrError(a, fmt.Sprintf("Invalid value for %q", a.Name),
			fmt.Sprintf("%q is not a positive duration such as \"90s\" or \"10m\".", v.AsString()))}
	}
	*dst = d
	return nil
}

func (c *Config) decodeChart(s *Stack, b *hcl.Block) hcl.Diagnostics {
	name := b.Labels[0]
	if _, dup := s.Charts[name]; dup {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate chart block",
			Detail: fmt.Sprintf("Chart %q is already overridden in this stack.", name), Subject: b.LabelRanges[0].Ptr()}}
	}
	content, diags := b.Body.Content(chartSchema)
	if diags.HasErrors() {
		return diags
	}
	var o sdk.ChartOverride
	diags = append(diags, stringAttr(content.Attributes["repository"], c.ctx, &o.Repository)...)
	diags = append(diags, stringAttr(content.Attributes["version"], c.ctx, &o.Version)...)
	if a := content.Attributes["repository"]; a != nil && o.Repository != "" {
		if !validRepository(o.Repository) {
			diags = append(diags, attrError(a, `Invalid value for "repository"`,
				fmt.Sprintf("%q is neither an http(s):// chart repository, an oci:// registry, nor a local folder path.", o.Repository)))
		} else if !strings.Contains(o.Repository, "://") { // a local folder, relative to lab.hcl
			o.Repository = expandHome(o.Repository)
			if !filepath.IsAbs(o.Repository) {
				o.Repository = filepath.Join(filepath.Dir(absPath(c.Path)), o.Repository)
			}
		}
	}
	if a := content.Attributes["values"]; a != nil {
		v, d := a.Expr.Value(c.ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if !v.Type().IsObjectType() && !v.Type().IsMapType() {
				diags = append(diags, attrError(a, `Invalid value for "values"`, "An object of chart values is required, as in values = { replicaCount = 2 }."))
			} else if err := fromCty(v, &o.Values); err != nil {
				diags = append(diags, attrError(a, `Invalid value for "values"`, err.Error()))
			}
		}
	}
	s.Charts[name] = o
	return diags
}

func validRepository(r string) bool {
	for _, p := range []string{"https://", "http://", "oci://", "/", "./", "../", "~/"} {
		if strings.HasPrefix(r, p) {
			return true
		}
	}
	return false
}

// DecodeStack checks a stack's plugin attributes against the plugin's schema and returns
// them as the JSON object the plugin receives, defaults filled in. Warnings come back too.
func (c *Config) DecodeStack(s *Stack, schema []sdk.Attribute) (json.RawMessage, hcl.Diagnostics) {
	for _, a := range schema {
		if contains(reserved, a.Name) {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid plugin schema",
				Detail: fmt.Sprintf("The plugin of stack %q declares attribute %q, a name lab reserves.", s.Name, a.Name), Subject: s.DefRange.Ptr()}}
		}
	}
	s.ranges = map[string]hcl.Range{}
	out, diags := c.decodeBody(s, s.body, schema, "")
	if diags.HasErrors() {
		return nil, diags
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid stack config", Detail: err.Error(), Subject: s.DefRange.Ptr()})
	}
	return b, diags
}

// decodeBody decodes the attributes and labelled blocks of a schema from a body, noting
// where each is written under the path prefix.
func (c *Config) decodeBody(s *Stack, body hcl.Body, schema []sdk.Attribute, prefix string) (map[string]any, hcl.Diagnostics) {
	bs := &hcl.BodySchema{}
	for _, a := range schema {
		if a.Type == sdk.TypeBlock {
			bs.Blocks = append(bs.Blocks, hcl.BlockHeaderSchema{Type: a.Name, LabelNames: []string{a.BlockLabel}})
		} else {
			bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
		}
	}
	content, diags := body.Content(bs)
	if diags.HasErrors() {
		return nil, diags
	}
	out := map[string]any{}
	for _, a := range schema {
		if a.Type == sdk.TypeBlock {
			blocks, d := c.decodeBlocks(s, content.Blocks.OfType(a.Name), a, prefix)
			diags = append(diags, d...)
			if len(blocks) > 0 {
				out[a.Name] = blocks
			}
			continue
		}
		attr := content.Attributes[a.Name]
		if attr == nil {
			if a.Default != nil {
				out[a.Name] = a.Default
			}
			continue
		}
		s.noteRanges(prefix+a.Name, attr)
		v, d := checkAttribute(attr, a, c.ctx)
		diags = append(diags, d...)
		if p, ok := v.(string); ok && a.Path && p != "" && !d.HasErrors() {
			v, d = c.resolvePath(attr, p)
			diags = append(diags, d...)
		}
		if v != nil {
			out[a.Name] = v
		}
	}
	return out, diags
}

func (c *Config) decodeBlocks(s *Stack, blocks hcl.Blocks, a sdk.Attribute, prefix string) (map[string]any, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := map[string]any{}
	for _, b := range blocks {
		label := b.Labels[0]
		path := prefix + a.Name + "." + label
		if r, dup := s.ranges[path]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate %s block", a.Name),
				Detail: fmt.Sprintf("%s %q is already declared at %s.", a.Name, label, r), Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		s.ranges[path] = b.LabelRanges[0]
		v, d := c.decodeBody(s, b.Body, a.Nested, path+".")
		diags = append(diags, d...)
		out[label] = v
	}
	return out, diags
}

// noteRanges records where an attribute, and each element of a list written literally,
// is written.
func (s *Stack) noteRanges(path string, attr *hcl.Attribute) {
	s.ranges[path] = attr.Expr.Range()
	if list, ok := attr.Expr.(*hclsyntax.TupleConsExpr); ok {
		for i, e := range list.Exprs {
			s.ranges[sdk.Index(path, i)] = e.Range()
		}
	}
}

// PluginDiagnostics places a plugin's Validate diagnostics at the attributes they name;
// one about an element or attribute lab cannot place goes to the closest enclosing one.
func (c *Config) PluginDiagnostics(s *Stack, ds sdk.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range ds {
		sev := hcl.DiagError
		if d.Severity == sdk.SeverityWarning {
			sev = hcl.DiagWarning
		}
		summary := d.Summary
		if summary == "" && d.Attribute != "" {
			summary = fmt.Sprintf("Invalid value for %q", d.Attribute)
		} else if summary == "" {
			summary = fmt.Sprintf("Invalid stack %q", s.Name)
		}
		out = append(out, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: d.Detail, Subject: s.rangeOf(d.Attribute).Ptr()})
	}
	return out
}

func (s *Stack) rangeOf(path string) hcl.Range {
	for path != "" {
		if r, ok := s.ranges[path]; ok {
			return r
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return s.DefRange
}

func ctyType(t string) (cty.Type, bool) {
	switch t {
	case sdk.TypeString:
		return cty.String, true
	case sdk.TypeNumber, sdk.TypeInteger:
		return cty.Number, true
	case sdk.TypeBool:
		return cty.Bool, true
	case sdk.TypeListString:
		return cty.List(cty.String), true
	case sdk.TypeListNumber:
		return cty.List(cty.Number), true
	case sdk.TypeMapString:
		return cty.Map(cty.String), true
	case sdk.TypeAny:
		return cty.DynamicPseudoType, true
	}
	return cty.NilType, false
}

// checkAttribute evaluates one plugin attribute and checks it against its schema.
func checkAttribute(attr *hcl.Attribute, a sdk.Attribute, ctx *hcl.EvalContext) (any, hcl.Diagnostics) {
	ty, ok := ctyType(a.Type)
	if !ok {
		return nil, hcl.Diagnostics{attrError(attr, "Invalid plugin schema", fmt.Sprintf("The plugin declares unknown type %q for %q.", a.Type, a.Name))}
	}
	v, diags := evalAs(attr, ctx, ty)
	if diags.HasErrors() || v.IsNull() {
		return nil, diags
	}
	invalid := func(detail string) (any, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{attrError(attr, fmt.Sprintf("Invalid value for %q", a.Name), detail)}
	}
	if v.Type() == cty.Number {
		f, _ := v.AsBigFloat().Float64()
		if a.Type == sdk.TypeInteger && !v.AsBigFloat().IsInt() {
			return invalid(fmt.Sprintf("%s is not a whole number.", v.AsBigFloat().Text('g', -1)))
		}
		if a.Min != nil && f < *a.Min {
			return invalid(fmt.Sprintf("%g is below the minimum of %g.", f, *a.Min))
		}
		if a.Max != nil && f > *a.Max {
			return invalid(fmt.Sprintf("%g is above the maximum of %g.", f, *a.Max))
		}
	}
	if v.Type() == cty.String {
		s := v.AsString()
		if len(a.Enum) > 0 && !contains(a.Enum, s) {
			return invalid(fmt.Sprintf("%q is not one of %s.%s", s, quoteList(a.Enum), suggest(s, a.Enum)))
		}
		if a.Pattern != "" {
			if re, err := regexp.Compile(a.Pattern); err == nil && !re.MatchString(s) {
				return invalid(fmt.Sprintf("%q does not match the pattern %s.", s, a.Pattern))
			}
		}
		if w, ok := a.Warnings[s]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: fmt.Sprintf("%s = %q", a.Name, s),
				Detail: w, Subject: attr.Expr.Range().Ptr()})
		}
	}
	var out any
	if err := fromCty(v, &out); err != nil {
		return invalid(err.Error())
	}
	return out, diags
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// fromCty converts a cty value into plain Go values through JSON.
func fromCty(v cty.Value, dst any) error {
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// resolvePath makes a path attribute absolute (relative to lab.hcl's folder, ~ expanded)
// and checks that it exists, so the plugin never gets a path that depends on where lab ran.
func (c *Config) resolvePath(attr *hcl.Attribute, p string) (any, hcl.Diagnostics) {
	p = expandHome(p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(absPath(c.Path)), p)
	}
	if _, err := os.Stat(p); err != nil {
		return nil, hcl.Diagnostics{attrError(attr, fmt.Sprintf("Invalid value for %q", attr.Name), err.Error()+".")}
	}
	return p, nil
}
