package k3d

import (
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
	dockerunits "github.com/docker/go-units"
	"github.com/hashicorp/hcl/v2"
	cliutil "github.com/k3d-io/k3d/v5/cmd/util"
	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"
	k3dutil "github.com/k3d-io/k3d/v5/pkg/util"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nexolab/lab/core/config"
)

// DefaultImage is the k3s release the lab runs unless the cluster block says otherwise.
const DefaultImage = "rancher/k3s:v1.33.9-k3s1"

// DataMount is where the lab's data_dir appears on every node; local-path volumes land there.
const DataMount = "/mnt/data"

// minNodeMemory is the least memory k3s runs in; a smaller limit makes nodes crash-loop.
const minNodeMemory = 512 << 20

// Config is the decoded `cluster "k3d"` block, with defaults applied, plus what the
// provider takes from the rest of lab.hcl (data_dir, domain, enabled stacks).
type Config struct {
	Name         string
	Servers      int
	Agents       int
	Image        string
	ServerMemory string
	AgentMemory  string
	HTTPPort     int
	HTTPSPort    int
	APIPort      int
	// K3sArgs are "ARG[@NODEFILTER[;NODEFILTER...]]"; without a filter an argument goes to the servers.
	K3sArgs []string
	// NodeLabels are "KEY=VALUE[@NODEFILTER[;...]]"; without a filter a label goes to every node.
	NodeLabels []string
	// Mirrors maps a registry (docker.io, ghcr.io, ...) to the endpoints nodes pull it through.
	Mirrors map[string][]string
	// HarborInsecure skips TLS verification towards harbor.<domain> (the lab's certificates
	// are self-signed).
	HarborInsecure          bool
	UpdateDefaultKubeconfig bool
	SwitchContext           bool

	// From the lab block and the stacks.
	LabName string
	Domain  string
	DataDir string
	// DisableTraefik is set when lab.hcl enables an ingress stack, which brings its own controller.
	DisableTraefik bool
	// Harbor is set when lab.hcl enables the harbor stack: nodes then pull from harbor.<domain>.
	Harbor bool
}

// HarborHost is the registry host of the lab's Harbor.
func (c Config) HarborHost() string { return "harbor." + c.Domain }

var blockSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "servers"}, {Name: "agents"}, {Name: "image"},
	{Name: "server_memory"}, {Name: "agent_memory"},
	{Name: "http_port"}, {Name: "https_port"}, {Name: "api_port"},
	{Name: "k3s_args"}, {Name: "node_labels"}, {Name: "mirrors"}, {Name: "harbor_insecure"},
	{Name: "update_default_kubeconfig"}, {Name: "switch_context"},
}}

// defaults are the lab's cluster: one server, two agents, 4 GB each, ports 80/443.
func defaults(c *config.Config) Config {
	return Config{
		Name:           c.Lab.Name + "-local",
		Servers:        1,
		Agents:         2,
		Image:          DefaultImage,
		ServerMemory:   "4g",
		AgentMemory:    "4g",
		HTTPPort:       80,
		HTTPSPort:      443,
		APIPort:        6550,
		HarborInsecure: true,
		LabName:        c.Lab.Name,
		Domain:         c.Lab.Domain,
		DataDir:        c.Lab.DataDir,
		DisableTraefik: enabled(c, "ingress"),
		Harbor:         enabled(c, "harbor"),
	}
}

func enabled(c *config.Config, stack string) bool {
	s := c.Stack(stack)
	return s != nil && s.Enabled
}

// Decode reads the cluster block of c into a Config; every problem is a diagnostic
// at the attribute it concerns.
func Decode(c *config.Config) (Config, hcl.Diagnostics) {
	cfg := defaults(c)
	body := c.Cluster.Body
	if body == nil {
		body = hcl.EmptyBody()
	}
	content, diags := body.Content(blockSchema)
	if diags.HasErrors() {
		return cfg, diags
	}
	d := &decoder{ctx: c.Cluster.Ctx, attrs: content.Attributes}
	d.name(&cfg.Name)
	d.count("servers", 1, 9, &cfg.Servers)
	d.count("agents", 0, 20, &cfg.Agents)
	d.image(&cfg.Image)
	d.memory("server_memory", &cfg.ServerMemory)
	d.memory("agent_memory", &cfg.AgentMemory)
	d.port("http_port", &cfg.HTTPPort)
	d.port("https_port", &cfg.HTTPSPort)
	d.port("api_port", &cfg.APIPort)
	d.k3sArgs(&cfg.K3sArgs)
	d.nodeLabels(&cfg.NodeLabels)
	d.mirrors(&cfg.Mirrors)
	d.boolean("harbor_insecure", &cfg.HarborInsecure)
	d.boolean("update_default_kubeconfig", &cfg.UpdateDefaultKubeconfig)
	d.boolean("switch_context", &cfg.SwitchContext)
	d.distinctPorts(cfg)
	d.filtersFit("k3s_args", cfg.K3sArgs, cfg)
	d.filtersFit("node_labels", cfg.NodeLabels, cfg)
	if cfg.Servers == 2 {
		d.warn("servers", "Two servers have no fault tolerance",
			"Two k3s servers form an etcd cluster that stops when either is down; use 1 or 3.")
	}
	diags = append(diags, d.diags...)
	return cfg, append(diags, fromLab(c, cfg, d.attrs["name"] == nil)...)
}

// fromLab checks what the cluster takes from the lab block: the default name and data_dir.
func fromLab(c *config.Config, cfg Config, defaultName bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if defaultName && k3dclient.CheckName(cfg.Name) != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid cluster name",
			Detail:  fmt.Sprintf("The default cluster name %q (the lab's name and \"-local\") is longer than k3d's 32 characters; set name in the cluster block.", cfg.Name),
			Subject: blockRange(c).Ptr()})
	}
	if strings.Contains(cfg.DataDir, ":") {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid data_dir",
			Detail:  fmt.Sprintf("data_dir %q contains ':', which Docker volume mounts cannot express.", cfg.DataDir),
			Subject: c.Lab.Range.Ptr()})
	}
	return diags
}

// blockRange is where to report a problem of the whole cluster block; the lab block when
// lab.hcl has no cluster block.
func blockRange(c *config.Config) hcl.Range {
	if c.Cluster.DefRange.Filename != "" {
		return c.Cluster.DefRange
	}
	return c.Lab.Range
}

// decoder evaluates the attributes of the block; a missing or null attribute keeps its default.
type decoder struct {
	ctx   *hcl.EvalContext
	attrs hcl.Attributes
	diags hcl.Diagnostics
}

func (d *decoder) fail(a *hcl.Attribute, summary, detail string) {
	d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail,
		Subject: a.Expr.Range().Ptr(), Expression: a.Expr, EvalContext: d.ctx})
}

func (d *decoder) warn(name, summary, detail string) {
	if a := d.attrs[name]; a != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail,
			Subject: a.Expr.Range().Ptr()})
	}
}

// value evaluates an attribute and converts it to ty; ok is false when it is absent,
// null or wrong (the last with a diagnostic).
func (d *decoder) value(name string, ty cty.Type, what string) (*hcl.Attribute, cty.Value, bool) {
	a := d.attrs[name]
	if a == nil {
		return nil, cty.NilVal, false
	}
	v, diags := a.Expr.Value(d.ctx)
	if d.diags = append(d.diags, diags...); diags.HasErrors() || v.IsNull() {
		return a, cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil || !cv.IsWhollyKnown() {
		d.fail(a, "Incorrect attribute value type", fmt.Sprintf("%s must be %s; %s.", name, what, typeProblem(v, err)))
		return a, cty.NilVal, false
	}
	return a, cv, true
}

func typeProblem(v cty.Value, err error) string {
	switch {
	case err == nil:
		return "its value is not known"
	case v.IsKnown() && v.Type() == cty.String:
		return fmt.Sprintf("got the string %q", v.AsString())
	case v.IsKnown() && v.Type() == cty.Number:
		return "got the number " + v.AsBigFloat().Text('g', -1)
	case v.IsKnown() && v.Type() == cty.Bool:
		return fmt.Sprintf("got %t", v.True())
	}
	return fmt.Sprintf("got %s (%s)", v.Type().FriendlyName(), err)
}

func (d *decoder) str(name string) (*hcl.Attribute, string, bool) {
	a, v, ok := d.value(name, cty.String, "a string")
	if !ok {
		return a, "", false
	}
	return a, v.AsString(), true
}

func (d *decoder) integer(name, what string) (*hcl.Attribute, int, bool) {
	a, v, ok := d.value(name, cty.Number, what)
	if !ok {
		return a, 0, false
	}
	f := v.AsBigFloat()
	n, acc := f.Int64()
	if !f.IsInt() || acc != big.Exact || n > 1<<31 || n < -(1<<31) {
		d.fail(a, "Invalid "+name, fmt.Sprintf("%s must be %s; %s is not.", name, what, f.Text('g', -1)))
		return a, 0, false
	}
	return a, int(n), true
}

func (d *decoder) name(dst *string) {
	a, s, ok := d.str("name")
	if !ok {
		return
	}
	if err := k3dclient.CheckName(s); err != nil {
		d.fail(a, "Invalid cluster name", fmt.Sprintf("%q cannot name a k3d cluster: use at most 32 letters, digits and hyphens, starting and ending with a letter or digit.", s))
		return
	}
	*dst = s
}

func (d *decoder) count(name string, min, max int, dst *int) {
	a, n, ok := d.integer(name, "a whole number")
	if !ok {
		return
	}
	if n < min || n > max {
		d.fail(a, "Invalid "+name, fmt.Sprintf("%s must be between %d and %d; got %d.", name, min, max, n))
		return
	}
	*dst = n
}

func (d *decoder) image(dst *string) {
	a, s, ok := d.str("image")
	if !ok {
		return
	}
	// "latest" and channel names would make k3d ask the internet at create time; the lab pins.
	if _, err := reference.ParseNormalizedNamed(s); err != nil || !strings.Contains(s, ":") {
		d.fail(a, "Invalid image", fmt.Sprintf("image must be a k3s image with a tag, such as %q; got %q.", DefaultImage, s))
		return
	}
	*dst = s
}

func (d *decoder) memory(name string, dst *string) {
	a, s, ok := d.str(name)
	if !ok {
		return
	}
	n, err := dockerunits.RAMInBytes(s)
	if err != nil || n < minNodeMemory {
		d.fail(a, "Invalid "+name, fmt.Sprintf("%s must be a size of at least 512m, such as \"4g\"; got %q.", name, s))
		return
	}
	*dst = s
}

func (d *decoder) port(name string, dst *int) {
	a, n, ok := d.integer(name, "a port number")
	if !ok {
		return
	}
	if n < 1 || n > 65535 {
		d.fail(a, "Invalid "+name, fmt.Sprintf("%s must be a port between 1 and 65535; got %d.", name, n))
		return
	}
	*dst = n
}

// distinctPorts rejects two host ports that are the same: the second bind would fail at create.
func (d *decoder) distinctPorts(cfg Config) {
	seen := map[int]string{}
	for _, p := range []struct {
		name string
		port int
	}{{"http_port", cfg.HTTPPort}, {"https_port", cfg.HTTPSPort}, {"api_port", cfg.APIPort}} {
		if other, dup := seen[p.port]; dup {
			if a := d.attrs[p.name]; a != nil {
				d.fail(a, "Duplicate port", fmt.Sprintf("%s and %s are both %d; each needs its own host port.", other, p.name, p.port))
			} else if a := d.attrs[other]; a != nil {
				d.fail(a, "Duplicate port", fmt.Sprintf("%s is %d, the default of %s; pick another port.", other, p.port, p.name))
			}
			continue
		}
		seen[p.port] = p.name
	}
}

func (d *decoder) boolean(name string, dst *bool) {
	if _, v, ok := d.value(name, cty.Bool, "true or false"); ok {
		*dst = v.True()
	}
}

func (d *decoder) list(name, what string) (*hcl.Attribute, []string, bool) {
	a, v, ok := d.value(name, cty.List(cty.String), what)
	if !ok {
		return a, nil, false
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return a, out, true
}

func (d *decoder) k3sArgs(dst *[]string) {
	a, args, ok := d.list("k3s_args", `a list of "ARG@NODEFILTER" strings`)
	if !ok {
		return
	}
	for _, s := range args {
		arg, _, err := splitFilters(s)
		if err == nil && !strings.HasPrefix(arg, "-") {
			err = fmt.Errorf("%q is not a k3s flag (flags start with -)", arg)
		}
		if err != nil {
			d.fail(a, "Invalid k3s_args", fmt.Sprintf("k3s_args entry %q: %s.", s, err))
			return
		}
	}
	*dst = args
}

// nodeLabels accepts a map (label = value, on every node) or k3d's "KEY=VALUE@NODEFILTER" list.
func (d *decoder) nodeLabels(dst *[]string) {
	a := d.attrs["node_labels"]
	if a == nil {
		return
	}
	v, diags := a.Expr.Value(d.ctx)
	if d.diags = append(d.diags, diags...); diags.HasErrors() || v.IsNull() {
		return
	}
	if v.Type().IsObjectType() || v.Type().IsMapType() {
		d.labelMap(a, v, dst)
		return
	}
	_, list, ok := d.list("node_labels", `a map of label = value or a list of "KEY=VALUE@NODEFILTER" strings`)
	if !ok {
		return
	}
	for _, s := range list {
		label, _, err := splitFilters(s)
		if err == nil {
			err = checkLabel(label)
		}
		if err != nil {
			d.fail(a, "Invalid node_labels", fmt.Sprintf("node_labels entry %q: %s.", s, err))
			return
		}
	}
	*dst = list
}

func (d *decoder) labelMap(a *hcl.Attribute, v cty.Value, dst *[]string) {
	m, err := convert.Convert(v, cty.Map(cty.String))
	if err != nil || !m.IsWhollyKnown() {
		d.fail(a, "Incorrect attribute value type", fmt.Sprintf("node_labels values must be strings; %s.", typeProblem(v, err)))
		return
	}
	var out []string
	for k, val := range m.AsValueMap() {
		label := k + "=" + val.AsString()
		if err := checkLabel(label); err != nil {
			d.fail(a, "Invalid node_labels", fmt.Sprintf("node_labels %q: %s.", k, err))
			return
		}
		out = append(out, label)
	}
	sort.Strings(out)
	*dst = out
}

// labelKey is a Kubernetes label key: an optional DNS prefix and a name.
var labelKey = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)

func checkLabel(label string) error {
	key, _, _ := strings.Cut(label, "=")
	if !labelKey.MatchString(key) {
		return fmt.Errorf("%q is not a Kubernetes label key", key)
	}
	return nil
}

// splitFilters splits k3d's "VALUE@FILTER;FILTER" form and checks the filters' syntax.
func splitFilters(s string) (string, []string, error) {
	value, filters, err := cliutil.SplitFiltersFromFlag(s)
	if err != nil {
		return "", nil, fmt.Errorf("only one unescaped '@' may separate the value from its node filters")
	}
	if value == "" {
		return "", nil, fmt.Errorf("the value before '@' is empty")
	}
	for _, f := range filters {
		if !k3dutil.NodeFilterRegexp.MatchString(f) || strings.HasPrefix(f, "loadbalancer") {
			return "", nil, fmt.Errorf("%q is not a node filter such as server:0, agent:*, agent:0,1 or all", f)
		}
	}
	return value, filters, nil
}

// filtersFit checks node filters against the node counts, as k3d will at create time,
// so that a filter naming agent:3 of two agents points at its attribute.
func (d *decoder) filtersFit(name string, entries []string, cfg Config) {
	a := d.attrs[name]
	if a == nil {
		return
	}
	var nodes []*k3dtypes.Node
	for i := 0; i < cfg.Servers; i++ {
		nodes = append(nodes, &k3dtypes.Node{Role: k3dtypes.ServerRole})
	}
	for i := 0; i < cfg.Agents; i++ {
		nodes = append(nodes, &k3dtypes.Node{Role: k3dtypes.AgentRole})
	}
	for _, s := range entries {
		_, filters, err := splitFilters(s)
		if err != nil || len(filters) == 0 {
			continue
		}
		if _, err := k3dutil.FilterNodes(nodes, filters); err != nil {
			d.fail(a, "Invalid "+name, fmt.Sprintf("%s entry %q: the node filters %s do not fit a cluster of %d server(s) and %d agent(s) (indexes start at 0).",
				name, s, strings.Join(filters, ";"), cfg.Servers, cfg.Agents))
			return
		}
	}
}

func (d *decoder) mirrors(dst *map[string][]string) {
	a, v, ok := d.value("mirrors", cty.Map(cty.List(cty.String)), `a map of registry = ["https://endpoint", ...]`)
	if !ok {
		return
	}
	out := map[string][]string{}
	for reg, list := range v.AsValueMap() {
		for _, e := range list.AsValueSlice() {
			u, err := url.Parse(e.AsString())
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.fail(a, "Invalid mirrors", fmt.Sprintf("mirror endpoint %q of %s must be an http:// or https:// URL.", e.AsString(), reg))
				return
			}
			out[reg] = append(out[reg], e.AsString())
		}
	}
	*dst = out
}
