package portal

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/hosts"
	"github.com/nexolab/lab/core/kube"
	"github.com/nexolab/lab/core/labca"
	"github.com/nexolab/lab/core/sdk"
	"github.com/nexolab/lab/core/trust"
)

// View is everything the page shows, read at Updated.
type View struct {
	Lab, Domain string
	Cluster     engine.ClusterPlan
	Nodes       []engine.Node
	Stacks      []Stack
	UIs         []UI
	Hosts       Note
	Trust       Note
	Updated     time.Time
	// Err is why the last refresh could not read the lab.
	Err string
}

// Stack is one stack: its health, its plan and its last apply.
type Stack struct {
	Name      string
	Status    sdk.Status
	Checks    []sdk.Check
	Err       string
	Plan      engine.Action
	Reason    string
	LastApply string
	AppliedAt time.Time
	LastError string
	// Endpoints are the URLs the stack reported with its health.
	Endpoints []sdk.Endpoint
}

// UI is one web UI of the lab; its password only through reveal.
type UI struct {
	Name, Stack, URL, User string
	HasPassword            bool
}

// Note is a state and what it means.
type Note struct {
	OK   bool
	Text string
}

// Lab reads the view from the engine of one lab.hcl.
type Lab struct {
	Engine *engine.Engine
	// HostsFile is the hosts file whose managed block is reported (default /etc/hosts).
	HostsFile string
	mu        sync.Mutex
	plan      *engine.Plan
	planAt    time.Time
}

// planEvery: a plan validates every stack; its answer changes only with lab.hcl or an apply.
const planEvery = 30 * time.Second

// View reads the cluster, the stacks' health, the plan, the UIs, the hosts file and the
// CA's trust state.
func (l *Lab) View(ctx context.Context) *View {
	e := l.Engine
	v := &View{Lab: e.Config.Lab.Name, Domain: e.Config.Lab.Domain, Updated: time.Now()}
	st, err := e.Status(ctx)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	v.Cluster, v.Nodes = st.Cluster, st.Nodes
	byName := map[string]*Stack{}
	for _, s := range st.Stacks {
		if !s.Enabled && s.State == "not installed" {
			continue
		}
		v.Stacks = append(v.Stacks, Stack{Name: s.Name, LastApply: s.State, AppliedAt: s.UpdatedAt, LastError: s.Error, Status: sdk.Unhealthy})
	}
	for i := range v.Stacks {
		byName[v.Stacks[i].Name] = &v.Stacks[i]
	}
	if st.Cluster.Action == engine.Unreachable {
		v.Err = "cluster unreachable: " + st.Cluster.Detail
		return v
	}
	l.health(ctx, byName)
	l.plans(ctx, byName)
	v.UIs = l.uis(ctx, v)
	v.Hosts = l.hostsNote(ctx)
	v.Trust = trustNote(ctx, v.Lab, v.Domain)
	return v
}

func (l *Lab) health(ctx context.Context, byName map[string]*Stack) {
	hs, err := l.Engine.Health(ctx, nil)
	if err != nil {
		for _, s := range byName {
			s.Err = err.Error()
		}
		return
	}
	for _, h := range hs {
		s := byName[h.Stack]
		if s == nil {
			continue
		}
		s.Status = h.Status()
		if h.Err != nil {
			s.Err = h.Err.Error()
		}
		if h.Health != nil {
			s.Checks, s.Endpoints = h.Health.Checks, h.Health.Endpoints
		}
	}
}

func (l *Lab) plans(ctx context.Context, byName map[string]*Stack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.plan == nil || time.Since(l.planAt) > planEvery {
		if p, diags, err := l.Engine.Plan(ctx); err == nil && !diags.HasErrors() {
			l.plan, l.planAt = p, time.Now()
		}
	}
	if l.plan == nil {
		return
	}
	for _, c := range l.plan.Changes {
		if s := byName[c.Stack]; s != nil {
			s.Plan, s.Reason = c.Action, c.Reason
		}
	}
}

// uis are the dashboards of the enabled stacks with the logins stacks recorded.
func (l *Lab) uis(ctx context.Context, v *View) []UI {
	byName := map[string]*UI{}
	if dash, err := l.Engine.Dashboards(ctx); err == nil {
		for name, url := range dash {
			byName[name] = &UI{Name: name, URL: strings.Replace(url, "http://", "https://", 1)}
		}
	}
	for _, s := range v.Stacks { // UIs a stack has by its config (Traefik's dashboard)
		for _, ep := range s.Endpoints {
			if _, ok := byName[ep.Name]; !ok && !strings.Contains(ep.URL, "*") {
				byName[ep.Name] = &UI{Name: ep.Name, Stack: s.Name, URL: ep.URL}
			}
		}
	}
	if creds, err := l.credentials(ctx); err == nil {
		for _, c := range creds {
			u := byName[c.UI]
			if u == nil {
				u = &UI{Name: c.UI}
				byName[c.UI] = u
			}
			u.Stack, u.User, u.HasPassword = c.Stack, c.Username, true
			if c.URL != "" {
				u.URL = c.URL
			}
		}
	}
	out := make([]UI, 0, len(byName))
	for _, u := range byName {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (l *Lab) credentials(ctx context.Context) ([]kube.Credential, error) {
	conn, err := l.Engine.Provider.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c, err := kube.Connect(conn, nil)
	if err != nil {
		return nil, err
	}
	return c.Credentials(ctx)
}

// Password is a UI's password, read when the user asks for it.
func (l *Lab) Password(ctx context.Context, ui string) (string, error) {
	creds, err := l.credentials(ctx)
	if err != nil {
		return "", err
	}
	for _, c := range creds {
		if c.UI == ui {
			return c.Password, nil
		}
	}
	return "", fmt.Errorf("no login for %q", ui)
}

// hostsNote compares the managed block of the hosts file with the hosts the lab serves.
func (l *Lab) hostsNote(ctx context.Context) Note {
	file := l.HostsFile
	if file == "" {
		file = hosts.DefaultFile
	}
	want, err := l.Engine.HostEntries(ctx, "127.0.0.1")
	if err != nil {
		return Note{Text: err.Error()}
	}
	if len(want) == 0 {
		return Note{OK: true, Text: "no Ingress serves a lab host yet"}
	}
	have, found, err := hosts.Show(file, l.Engine.Config.Lab.Name)
	if err != nil {
		return Note{Text: err.Error()}
	}
	if !found {
		return Note{Text: fmt.Sprintf("no lab block in %s: run lab hosts sync (%d hosts)", file, len(want))}
	}
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h hosts.Entry) bool { return h.Host == w.Host }) {
			missing = append(missing, w.Host)
		}
	}
	if len(missing) > 0 {
		return Note{Text: fmt.Sprintf("%s lacks %s: run lab hosts sync", file, strings.Join(missing, ", "))}
	}
	return Note{OK: true, Text: fmt.Sprintf("%s has all %d lab hosts", file, len(want))}
}

// trustNote says whether the system trusts the lab CA, by the same handshake lab trust does.
func trustNote(ctx context.Context, lab, domain string) Note {
	dir, err := labca.Dir(lab)
	if err != nil {
		return Note{Text: err.Error()}
	}
	ca, err := labca.Load(dir)
	if err != nil {
		return Note{Text: "no lab CA yet: lab apply makes it"}
	}
	leaf, err := tls.LoadX509KeyPair(dir+"/"+labca.LeafFile, dir+"/"+labca.LeafKeyFile)
	if err != nil {
		return Note{Text: "no lab certificate yet: lab apply makes it"}
	}
	fp := labca.Fingerprint(ca.Cert)[:16]
	if err := trust.Verify(ctx, leaf, "portal-check."+domain); err != nil {
		return Note{Text: fmt.Sprintf("lab CA %s… is not trusted by this machine: run lab trust", fp)}
	}
	st, _ := trust.Check(ctx, trust.Options{Lab: lab}, ca.PEM)
	text := fmt.Sprintf("lab CA %s… is trusted by the system", fp)
	if len(st.Missing) > 0 {
		text += fmt.Sprintf("; not yet by %d browser database(s): run lab trust", len(st.Missing))
	}
	return Note{OK: true, Text: text}
}
