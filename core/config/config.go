// Package config reads lab.hcl: variables, the lab and cluster blocks, and the stack blocks,
// each checked against the schema its plugin declares. Every problem is an hcl.Diagnostic
// with the file, line and column.
package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/nexolab/lab/core/sdk"
)

// DefaultFile is read when a command is given no file.
const DefaultFile = "lab.hcl"

// Config is a parsed lab.hcl. Stack blocks are checked against plugin schemas by DecodeStack.
type Config struct {
	Path    string
	Lab     Lab
	Cluster Cluster
	Stacks  []*Stack
	// Vars are the values of the variables, for display.
	Vars map[string]cty.Value

	parser *hclparse.Parser
	ctx    *hcl.EvalContext
}

// Lab is the `lab "<name>"` block.
type Lab struct {
	Name    string
	Domain  string
	DataDir string
	Range   hcl.Range
}

// Cluster is the `cluster "<provider>"` block; the provider decodes its body.
type Cluster struct {
	Provider string
	Body     hcl.Body
	DefRange hcl.Range
	// Ctx evaluates the body's expressions.
	Ctx *hcl.EvalContext
}

// Stack is a `stack "<name>"` block.
type Stack struct {
	Name      string
	Enabled   bool
	DependsOn []string
	// DependsOnRange is where depends_on is written, for errors about it.
	DependsOnRange hcl.Range
	Timeout        time.Duration
	Charts         map[string]sdk.ChartOverride
	DefRange       hcl.Range
	body           hcl.Body
	// ranges maps an attribute path of the plugin's config ("retention",
	// "environment.prod.replicas") to where it is written, for the plugin's diagnostics.
	ranges map[string]hcl.Range
}

// Options are the values given outside the file.
type Options struct {
	// Vars are -var name=value flags; Env is the environment (LAB_VAR_name=value).
	Vars map[string]string
	Env  []string
}

// Providers are the cluster providers lab knows.
var Providers = []string{"k3d", "existing", "kwok"}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "lab", LabelNames: []string{"name"}},
		{Type: "cluster", LabelNames: []string{"provider"}},
		{Type: "stack", LabelNames: []string{"name"}},
	},
}

// Load parses and checks the file, up to but not including the stacks' plugin attributes.
func Load(path string, opts Options) (*Config, hcl.Diagnostics) {
	c := &Config{Path: path, parser: hclparse.NewParser()}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = c.parser.ParseJSONFile(path)
	} else {
		f, diags = c.parser.ParseHCLFile(path)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	content, d := f.Body.Content(rootSchema)
	if diags = append(diags, d...); diags.HasErrors() {
		return nil, diags
	}
	blocks := map[string]hcl.Blocks{}
	for _, b := range content.Blocks {
		blocks[b.Type] = append(blocks[b.Type], b)
	}
	vars, d := decodeVariables(blocks["variable"], opts)
	if diags = append(diags, d...); diags.HasErrors() {
		return nil, diags
	}
	c.Vars = vars
	c.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: functions(filepath.Dir(path)),
	}
	diags = append(diags, c.decodeLab(blocks["lab"], f.Body)...)
	if diags.HasErrors() {
		return nil, diags
	}
	c.ctx.Variables["lab"] = cty.ObjectVal(map[string]cty.Value{
		"name": cty.StringVal(c.Lab.Name), "domain": cty.StringVal(c.Lab.Domain), "data_dir": cty.StringVal(c.Lab.DataDir),
	})
	diags = append(diags, c.decodeCluster(blocks["cluster"])...)
	diags = append(diags, c.decodeStacks(blocks["stack"])...)
	if diags.HasErrors() {
		return nil, diags
	}
	return c, diags
}

// Files returns the parsed files, for printing diagnostics with source snippets.
func (c *Config) Files() map[string]*hcl.File { return c.parser.Files() }

// Stack returns the block of a stack, or nil.
func (c *Config) Stack(name string) *Stack {
	for _, s := range c.Stacks {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Enabled returns the stacks that are enabled, in file order.
func (c *Config) Enabled() []*Stack {
	var out []*Stack
	for _, s := range c.Stacks {
		if s.Enabled {
			out = append(out, s)
		}
	}
	return out
}

var labSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "domain"}, {Name: "data_dir"}}}

func (c *Config) decodeLab(blocks hcl.Blocks, root hcl.Body) hcl.Diagnostics {
	if len(blocks) == 0 {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Missing lab block",
			Detail:   `The file needs one lab "<name>" block with the lab's domain and data_dir.`,
			Subject:  rangeOfBody(root),
		}}
	}
	if d := onlyOne(blocks, "lab"); d != nil {
		return d
	}
	b := blocks[0]
	c.Lab = Lab{Name: b.Labels[0], Range: b.DefRange}
	diags := checkName(b.Labels[0], b.LabelRanges[0], "lab name")
	content, d := b.Body.Content(labSchema)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return diags
	}
	c.Lab.Domain = c.Lab.Name + ".local"
	c.Lab.DataDir = filepath.Join("~", ".lab", c.Lab.Name, "data")
	diags = append(diags, stringAttr(content.Attributes["domain"], c.ctx, &c.Lab.Domain)...)
	diags = append(diags, stringAttr(content.Attributes["data_dir"], c.ctx, &c.Lab.DataDir)...)
	if a := content.Attributes["domain"]; a != nil && !diags.HasErrors() && !validDomain(c.Lab.Domain) {
		diags = append(diags, attrError(a, "Invalid domain",
			fmt.Sprintf("%q is not a DNS domain: use lowercase labels of letters, digits and hyphens separated by dots.", c.Lab.Domain)))
	}
	c.Lab.DataDir = expandHome(c.Lab.DataDir)
	if !filepath.IsAbs(c.Lab.DataDir) {
		c.Lab.DataDir = filepath.Join(filepath.Dir(absPath(c.Path)), c.Lab.DataDir)
	}
	return diags
}

func (c *Config) decodeCluster(blocks hcl.Blocks) hcl.Diagnostics {
	if len(blocks) == 0 {
		c.Cluster = Cluster{Provider: "k3d", Body: hcl.EmptyBody(), Ctx: c.ctx}
		return nil
	}
	if d := onlyOne(blocks, "cluster"); d != nil {
		return d
	}
	b := blocks[0]
	p := b.Labels[0]
	if !contains(Providers, p) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown cluster provider",
			Detail:   fmt.Sprintf("%q is not a cluster provider; use one of %s.%s", p, strings.Join(Providers, ", "), suggest(p, Providers)),
			Subject:  b.LabelRanges[0].Ptr(),
		}}
	}
	c.Cluster = Cluster{Provider: p, Body: b.Body, DefRange: b.DefRange, Ctx: c.ctx}
	return nil
}

func onlyOne(blocks hcl.Blocks, kind string) hcl.Diagnostics {
	if len(blocks) < 2 {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", kind),
		Detail:   fmt.Sprintf("Only one %s block is allowed; the first is at %s.", kind, blocks[0].DefRange),
		Subject:  blocks[1].DefRange.Ptr(),
	}}
}

func rangeOfBody(b hcl.Body) *hcl.Range {
	r := b.MissingItemRange()
	return &r
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
