// Package sdk is what a plugin author imports: the Stack interface a plugin implements,
// the types it exchanges with the host, and Serve, which makes a plugin's whole main.
package sdk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Stack is one stack of the lab: it installs, checks, backs up, restores and removes it.
// Embed Unimplemented to leave out Render, Backup and Restore.
type Stack interface {
	Info() Info
	// Config returns a new pointer to the stack's config struct with its defaults set.
	// Its `hcl`-tagged fields are the schema of the stack's block in lab.hcl.
	Config() any
	Render(ctx context.Context, req *Request) ([]RenderedChart, error)
	Install(ctx context.Context, req *Request) (*Result, error)
	Health(ctx context.Context, req *Request) (*Health, error)
	Backup(ctx context.Context, req *Request) (*Result, error)
	Restore(ctx context.Context, req *Request) (*Result, error)
	Uninstall(ctx context.Context, req *Request) (*Result, error)
}

// Info describes a plugin.
type Info struct {
	Name        string
	Version     string
	Description string
	// DependsOn names the stacks this one needs installed first; lab.hcl may add more.
	DependsOn  []string
	Namespaces []string
	// Footprint is what runs once in the cluster; FootprintPerNode what runs on every
	// node (DaemonSets), which the host multiplies by the cluster's nodes.
	Footprint        Footprint
	FootprintPerNode Footprint
	// Dashboards maps a UI name to its host prefix under the lab domain ("grafana"), with
	// a scheme when it is not http ("https://argocd").
	Dashboards map[string]string
	// Protocol is filled in by the host with the negotiated protocol version.
	Protocol int
}

// Footprint is what the stack's workloads request and may use at most.
type Footprint struct {
	CPURequestMillis   int64
	MemoryRequestBytes int64
	CPULimitMillis     int64
	MemoryLimitBytes   int64
}

// Plus adds n times o to f.
func (f Footprint) Plus(o Footprint, n int64) Footprint {
	return Footprint{
		CPURequestMillis: f.CPURequestMillis + n*o.CPURequestMillis, MemoryRequestBytes: f.MemoryRequestBytes + n*o.MemoryRequestBytes,
		CPULimitMillis: f.CPULimitMillis + n*o.CPULimitMillis, MemoryLimitBytes: f.MemoryLimitBytes + n*o.MemoryLimitBytes,
	}
}

// Request carries everything a work method needs. Its context carries the deadline.
type Request struct {
	Stack   string
	Cluster Cluster
	Lab     Lab
	// Config is the plugin's config struct (the type Stack.Config returns), decoded.
	Config any
	// ConfigJSON is the config as the host sent it.
	ConfigJSON json.RawMessage
	Charts     map[string]ChartOverride
	// Dir is the folder Backup writes to and Restore reads from.
	Dir       string
	PurgeData bool
	Cascade   bool
	// Log goes to the host, which prints it under the stack's name.
	Log hclog.Logger
	// OnEvent receives progress events; Emit and Progress call it.
	OnEvent func(Event)
}

// Cluster is how to reach the lab's Kubernetes cluster.
type Cluster struct {
	Kubeconfig []byte
	Context    string
	// Provider is k3d, existing or kwok.
	Provider string
	// Simulated is true when no container runs (kwok nodes): checks that need a running
	// container must report Skipped.
	Simulated bool
}

// Lab is the `lab` block of lab.hcl.
type Lab struct {
	Name    string
	Domain  string
	DataDir string
}

// ChartOverride is a `chart "<name>" {}` block: it pins, mirrors or patches a chart.
type ChartOverride struct {
	Repository string
	Version    string
	Values     map[string]any
}

// Event is one step of progress reported by a plugin.
type Event struct {
	Time    time.Time
	Level   string // info, warn, error
	Step    string
	Message string
	Done    int
	Total   int
}

// Emit reports progress of a step.
func (r *Request) Emit(step, format string, args ...any) {
	r.send(Event{Level: "info", Step: step, Message: sprintf(format, args...)})
}

// Warn reports something the user should know that does not fail the step.
func (r *Request) Warn(step, format string, args ...any) {
	r.send(Event{Level: "warn", Step: step, Message: sprintf(format, args...)})
}

// Progress reports done of total units of a step.
func (r *Request) Progress(step string, done, total int, message string) {
	r.send(Event{Level: "info", Step: step, Message: message, Done: done, Total: total})
}

func (r *Request) send(e Event) {
	e.Time = time.Now()
	if r.OnEvent != nil {
		r.OnEvent(e)
	}
}

// Logger returns the request's logger, or a silent one.
func (r *Request) Logger() hclog.Logger {
	if r.Log == nil {
		return hclog.NewNullLogger()
	}
	return r.Log
}

// Result is what a work method did.
type Result struct {
	Changed  bool
	Summary  string
	Releases []Release
	Files    []string
}

// Release is a Helm release a stack manages.
type Release struct {
	Name      string
	Namespace string
	Chart     string
	Version   string
	Revision  int
	Changed   bool
	// Workloads are the release's Deployments, StatefulSets and DaemonSets,
	// "Kind/namespace/name".
	Workloads []string `json:",omitempty"`
}

// RenderedChart is the values Install would give one chart, secrets masked.
type RenderedChart struct {
	Release    string
	Namespace  string
	Chart      string
	Version    string
	Repository string
	ValuesYAML string
}
