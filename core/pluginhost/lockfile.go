package pluginhost

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/nexolab/lab/core/atomicfile"
)

// LockFileName is the lock file beside lab.hcl: the plugins the lab trusts, like
// Terraform's .terraform.lock.hcl. Commit it with lab.hcl.
const LockFileName = "lab.lock.hcl"

// Locked is what the lock file records of one plugin.
type Locked struct {
	Name    string `hcl:"name,label"`
	Version string `hcl:"version"`
	SHA256  string `hcl:"sha256"`
}

// LockFile is the lab's lock file; a missing file is an empty one.
type LockFile struct {
	Path string

	mu      sync.Mutex
	plugins map[string]Locked
}

type lockFileBody struct {
	Plugins []Locked `hcl:"plugin,block"`
}

// ReadLockFile reads the lock file at path; errors carry file:line:col.
func ReadLockFile(path string) (*LockFile, hcl.Diagnostics) {
	l := &LockFile{Path: path, plugins: map[string]Locked{}}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return l, nil
	}
	f, diags := hclparse.NewParser().ParseHCLFile(path)
	if diags.HasErrors() {
		return nil, diags
	}
	var body lockFileBody
	if diags := gohcl.DecodeBody(f.Body, nil, &body); diags.HasErrors() {
		return nil, diags
	}
	for _, p := range body.Plugins {
		l.plugins[p.Name] = p
	}
	return l, nil
}

// Get returns the locked version and checksum of a plugin.
func (l *LockFile) Get(name string) (Locked, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.plugins[name]
	return p, ok
}

// Set records a plugin's version and checksum.
func (l *LockFile) Set(p Locked) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.plugins[p.Name] = p
}

// Save writes the lock file whole.
func (l *LockFile) Save() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(
		"# The plugins this lab trusts: written by the first lab apply and by lab plugins lock.\n" +
			"# A plugin whose binary differs is refused; accept it with lab plugins lock --upgrade.\n\n")}})
	names := make([]string, 0, len(l.plugins))
	for n := range l.plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("plugin", []string{n}).Body()
		b.SetAttributeValue("version", cty.StringVal(l.plugins[n].Version))
		b.SetAttributeValue("sha256", cty.StringVal(l.plugins[n].SHA256))
	}
	return atomicfile.Write(l.Path, f.Bytes(), 0o644)
}

// LockFile returns the lock file the host checks plugins against, or nil.
func (h *Host) LockFile() *LockFile { return h.lock }

// checkLock refuses a plugin whose binary's checksum differs from the lock file's, before
// it is started.
func (h *Host) checkLock(name, path, sum string) error {
	if h.lock == nil {
		return nil
	}
	if want, ok := h.lock.Get(name); ok && want.SHA256 != sum {
		return fmt.Errorf("plugin %s (%s) refused before it was started: its SHA-256 is %s, but %s records %s (version %s). "+
			"If you trust this binary, accept it with: lab plugins lock --upgrade", name, path, sum, h.lock.Path, want.SHA256, want.Version)
	}
	return nil
}
