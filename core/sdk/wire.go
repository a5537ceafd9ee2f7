package sdk

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nexolab/lab/core/proto/labv1"
)

// Conversions between the SDK's types and the protocol's messages.

func infoToProto(i Info) *labv1.InfoResponse {
	return &labv1.InfoResponse{
		Name: i.Name, Version: i.Version, Description: i.Description,
		DependsOn: i.DependsOn, Namespaces: i.Namespaces, Dashboards: i.Dashboards,
		Footprint: footprintToProto(i.Footprint), FootprintPerNode: footprintToProto(i.FootprintPerNode),
	}
}

func footprintToProto(f Footprint) *labv1.Footprint {
	return &labv1.Footprint{CpuRequestMillis: f.CPURequestMillis, MemoryRequestBytes: f.MemoryRequestBytes,
		CpuLimitMillis: f.CPULimitMillis, MemoryLimitBytes: f.MemoryLimitBytes}
}

func footprintFromProto(f *labv1.Footprint) Footprint {
	return Footprint{CPURequestMillis: f.GetCpuRequestMillis(), MemoryRequestBytes: f.GetMemoryRequestBytes(),
		CPULimitMillis: f.GetCpuLimitMillis(), MemoryLimitBytes: f.GetMemoryLimitBytes()}
}

func infoFromProto(p *labv1.InfoResponse) Info {
	return Info{
		Name: p.Name, Version: p.Version, Description: p.Description,
		DependsOn: p.DependsOn, Namespaces: p.Namespaces, Dashboards: p.Dashboards,
		Footprint: footprintFromProto(p.GetFootprint()), FootprintPerNode: footprintFromProto(p.GetFootprintPerNode()),
	}
}

func schemaToProto(attrs []Attribute) (*labv1.SchemaResponse, error) {
	out := &labv1.SchemaResponse{}
	for _, a := range attrs {
		p := &labv1.Attribute{
			Name: a.Name, Type: a.Type, Description: a.Description, Required: a.Required,
			Enum: a.Enum, Pattern: a.Pattern, Warnings: a.Warnings, Sensitive: a.Sensitive, Path: a.Path, Env: a.Env,
			BlockLabel: a.BlockLabel,
		}
		if len(a.Nested) > 0 {
			nested, err := schemaToProto(a.Nested)
			if err != nil {
				return nil, err
			}
			p.Nested = nested.Attributes
		}
		if a.Default != nil {
			b, err := json.Marshal(a.Default)
			if err != nil {
				return nil, fmt.Errorf("default of %s: %w", a.Name, err)
			}
			p.DefaultJson = b
		}
		if a.Min != nil {
			p.HasMin, p.Min = true, *a.Min
		}
		if a.Max != nil {
			p.HasMax, p.Max = true, *a.Max
		}
		out.Attributes = append(out.Attributes, p)
	}
	return out, nil
}

func schemaFromProto(p *labv1.SchemaResponse) ([]Attribute, error) {
	var attrs []Attribute
	for _, a := range p.Attributes {
		attr := Attribute{
			Name: a.Name, Type: a.Type, Description: a.Description, Required: a.Required,
			Enum: a.Enum, Pattern: a.Pattern, Warnings: a.Warnings, Sensitive: a.Sensitive, Path: a.Path, Env: a.Env,
			BlockLabel: a.BlockLabel,
		}
		if len(a.Nested) > 0 {
			nested, err := schemaFromProto(&labv1.SchemaResponse{Attributes: a.Nested})
			if err != nil {
				return nil, err
			}
			attr.Nested = nested
		}
		if len(a.DefaultJson) > 0 {
			if err := json.Unmarshal(a.DefaultJson, &attr.Default); err != nil {
				return nil, fmt.Errorf("default of %s: %w", a.Name, err)
			}
		}
		if a.HasMin {
			attr.Min = &a.Min
		}
		if a.HasMax {
			attr.Max = &a.Max
		}
		attrs = append(attrs, attr)
	}
	return attrs, nil
}

func requestToProto(r *Request) *labv1.Request {
	p := &labv1.Request{
		Stack: r.Stack,
		Cluster: &labv1.Cluster{Kubeconfig: r.Cluster.Kubeconfig, Context: r.Cluster.Context,
			Provider: r.Cluster.Provider, Simulated: r.Cluster.Simulated},
		Lab:        &labv1.Lab{Name: r.Lab.Name, Domain: r.Lab.Domain, DataDir: r.Lab.DataDir},
		ConfigJson: r.ConfigJSON,
		Dir:        r.Dir, PurgeData: r.PurgeData, Cascade: r.Cascade,
		Charts: map[string]*labv1.ChartOverride{},
	}
	for name, c := range r.Charts {
		values, _ := json.Marshal(c.Values) // values come from decoded HCL, always encodable
		p.Charts[name] = &labv1.ChartOverride{Repository: c.Repository, Version: c.Version, ValuesJson: values}
	}
	return p
}

func requestFromProto(p *labv1.Request) *Request {
	r := &Request{
		Stack: p.Stack,
		Cluster: Cluster{Kubeconfig: p.GetCluster().GetKubeconfig(), Context: p.GetCluster().GetContext(),
			Provider: p.GetCluster().GetProvider(), Simulated: p.GetCluster().GetSimulated()},
		Lab:        Lab{Name: p.GetLab().GetName(), Domain: p.GetLab().GetDomain(), DataDir: p.GetLab().GetDataDir()},
		ConfigJSON: p.ConfigJson,
		Dir:        p.Dir, PurgeData: p.PurgeData, Cascade: p.Cascade,
		Charts: map[string]ChartOverride{},
	}
	for name, c := range p.Charts {
		o := ChartOverride{Repository: c.Repository, Version: c.Version}
		_ = json.Unmarshal(c.ValuesJson, &o.Values) // null or an object
		r.Charts[name] = o
	}
	return r
}

func eventToProto(e Event) *labv1.Event {
	return &labv1.Event{UnixNano: e.Time.UnixNano(), Level: e.Level, Step: e.Step, Message: e.Message,
		Done: int32(e.Done), Total: int32(e.Total)}
}

func eventFromProto(p *labv1.Event) Event {
	return Event{Time: time.Unix(0, p.UnixNano), Level: p.Level, Step: p.Step, Message: p.Message,
		Done: int(p.Done), Total: int(p.Total)}
}

func resultToProto(r *Result) *labv1.Result {
	p := &labv1.Result{Changed: r.Changed, Summary: r.Summary, Files: r.Files}
	for _, rel := range r.Releases {
		p.Releases = append(p.Releases, &labv1.Release{Name: rel.Name, Namespace: rel.Namespace,
			Chart: rel.Chart, Version: rel.Version, Revision: int32(rel.Revision), Changed: rel.Changed, Workloads: rel.Workloads})
	}
	return p
}

func resultFromProto(p *labv1.Result) *Result {
	r := &Result{Changed: p.Changed, Summary: p.Summary, Files: p.Files}
	for _, rel := range p.Releases {
		r.Releases = append(r.Releases, Release{Name: rel.Name, Namespace: rel.Namespace,
			Chart: rel.Chart, Version: rel.Version, Revision: int(rel.Revision), Changed: rel.Changed, Workloads: rel.Workloads})
	}
	return r
}

func healthToProto(h *Health) *labv1.HealthResponse {
	p := &labv1.HealthResponse{}
	if h == nil {
		return p
	}
	for _, c := range h.Checks {
		p.Checks = append(p.Checks, &labv1.Check{Name: c.Name, Status: string(c.Status), Message: c.Message})
	}
	for _, e := range h.Endpoints {
		p.Endpoints = append(p.Endpoints, &labv1.Endpoint{Name: e.Name, Url: e.URL})
	}
	return p
}

func healthFromProto(p *labv1.HealthResponse) *Health {
	h := &Health{}
	for _, c := range p.Checks {
		h.Checks = append(h.Checks, Check{Name: c.Name, Status: Status(c.Status), Message: c.Message})
	}
	for _, e := range p.Endpoints {
		h.Endpoints = append(h.Endpoints, Endpoint{Name: e.Name, URL: e.Url})
	}
	return h
}

func renderToProto(charts []RenderedChart) *labv1.RenderResponse {
	p := &labv1.RenderResponse{}
	for _, c := range charts {
		p.Charts = append(p.Charts, &labv1.RenderedChart{Release: c.Release, Namespace: c.Namespace,
			Chart: c.Chart, Version: c.Version, Repository: c.Repository, ValuesYaml: c.ValuesYAML})
	}
	return p
}

func renderFromProto(p *labv1.RenderResponse) []RenderedChart {
	var out []RenderedChart
	for _, c := range p.Charts {
		out = append(out, RenderedChart{Release: c.Release, Namespace: c.Namespace,
			Chart: c.Chart, Version: c.Version, Repository: c.Repository, ValuesYAML: c.ValuesYaml})
	}
	return out
}

func diagnosticsToProto(d Diagnostics) *labv1.ValidateResponse {
	p := &labv1.ValidateResponse{}
	for _, x := range d {
		p.Diagnostics = append(p.Diagnostics, &labv1.Diagnostic{Severity: x.Severity, Summary: x.Summary,
			Detail: x.Detail, Attribute: x.Attribute})
	}
	return p
}

func diagnosticsFromProto(p *labv1.ValidateResponse) Diagnostics {
	var d Diagnostics
	for _, x := range p.Diagnostics {
		d = append(d, Diagnostic{Severity: x.Severity, Summary: x.Summary, Detail: x.Detail, Attribute: x.Attribute})
	}
	return d
}
