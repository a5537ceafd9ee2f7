package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/sdk"
)

// textObserver prints one line per step: plain lines work on terminals and in CI logs.
type textObserver struct {
	mu  sync.Mutex
	out io.Writer
}

func (o *textObserver) printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.out, format, args...)
}

func (o *textObserver) Start(stack string, a engine.Action) {
	o.printf("%-12s %s ...\n", stack, a)
}

func (o *textObserver) Event(stack string, ev sdk.Event) {
	prefix := ""
	if ev.Level == "warn" {
		prefix = "warning: "
	}
	o.printf("%-12s %s: %s%s\n", stack, ev.Step, prefix, ev.Message)
}

func (o *textObserver) Done(r engine.StackResult) { o.printf("%s\n", outcomeLine(r)) }

// outcomeLine says how a stack's action ended, as both text views show it.
func outcomeLine(r engine.StackResult) string {
	switch r.Outcome {
	case engine.OK:
		return fmt.Sprintf("%-12s %s done in %s%s%s", r.Stack, r.Action, r.Duration.Round(time.Millisecond), changed(r.Result), summary(r.Result))
	case engine.Skipped:
		return fmt.Sprintf("%-12s skipped: %v", r.Stack, r.Err)
	}
	return fmt.Sprintf("%-12s FAILED: %v", r.Stack, r.Err)
}

func changed(r *sdk.Result) string {
	if r != nil && r.Changed {
		return " (changed)"
	}
	return ""
}

func summary(r *sdk.Result) string {
	if r == nil || r.Summary == "" {
		return ""
	}
	return ": " + r.Summary
}

// jsonObserver writes one JSON object per line, for machines.
type jsonObserver struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newJSONObserver(w io.Writer) *jsonObserver { return &jsonObserver{enc: json.NewEncoder(w)} }

func (o *jsonObserver) write(v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(v)
}

func (o *jsonObserver) Start(stack string, a engine.Action) {
	o.write(map[string]any{"type": "start", "stack": stack, "action": a, "time": time.Now()})
}

func (o *jsonObserver) Event(stack string, ev sdk.Event) {
	if ev.Time.IsZero() { // the host's own events (the certificate's) are stamped here
		ev.Time = time.Now()
	}
	o.write(map[string]any{"type": "event", "stack": stack, "time": ev.Time, "level": ev.Level,
		"step": ev.Step, "message": ev.Message, "done": ev.Done, "total": ev.Total})
}

func (o *jsonObserver) Done(r engine.StackResult) {
	o.write(resultJSON(r))
}

func resultJSON(r engine.StackResult) map[string]any {
	m := map[string]any{"type": "result", "stack": r.Stack, "action": r.Action, "outcome": r.Outcome,
		"seconds": r.Duration.Seconds()}
	if r.Err != nil {
		m["error"] = r.Err.Error()
		m["step"] = r.Step
	}
	if r.Result != nil {
		m["changed"] = r.Result.Changed
		m["releases"] = r.Result.Releases
	}
	return m
}

// observer picks how progress is shown: JSON lines with -o json, a live view on a
// terminal, plain lines elsewhere (CI logs, pipes). The returned func ends the display.
func (g *globals) observer() (engine.Observer, func()) {
	switch {
	case g.json():
		return newJSONObserver(g.stdout), func() {}
	case isTerminal(g.stderr) && g.logLevel == "warn":
		o := newLiveObserver(g.stderr)
		return o, o.Close
	}
	return &textObserver{out: g.stderr}, func() {}
}
