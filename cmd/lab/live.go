package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nexolab/lab/core/engine"
	"github.com/nexolab/lab/core/sdk"
)

// liveObserver shows one line per stack at work on a terminal, redrawn in place with a
// spinner; finished stacks and warnings are printed above it for good.
type liveObserver struct {
	mu      sync.Mutex
	out     io.Writer
	order   []string
	lines   map[string]string
	drawn   int
	frame   int
	stop    chan struct{}
	stopped sync.WaitGroup
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newLiveObserver(out io.Writer) *liveObserver {
	o := &liveObserver{out: out, lines: map[string]string{}, stop: make(chan struct{})}
	o.stopped.Go(o.loop)
	return o
}

func (o *liveObserver) loop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.mu.Lock()
			o.frame++
			o.redraw()
			o.mu.Unlock()
		}
	}
}

// Close stops the spinner and clears its lines.
func (o *liveObserver) Close() {
	close(o.stop)
	o.stopped.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clear()
}

func (o *liveObserver) clear() {
	if o.drawn > 0 {
		fmt.Fprintf(o.out, "\x1b[%dA\x1b[J", o.drawn)
		o.drawn = 0
	}
}

func (o *liveObserver) redraw() {
	o.clear()
	for _, s := range o.order {
		fmt.Fprintf(o.out, "%s %-12s %s\n", spinner[o.frame%len(spinner)], s, o.lines[s])
	}
	o.drawn = len(o.order)
}

// above prints a permanent line above the live ones.
func (o *liveObserver) above(format string, args ...any) {
	o.clear()
	fmt.Fprintf(o.out, format, args...)
	o.redraw()
}

func (o *liveObserver) Start(stack string, a engine.Action) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.order = append(o.order, stack)
	o.lines[stack] = string(a) + " ..."
	o.redraw()
}

func (o *liveObserver) Event(stack string, ev sdk.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ev.Level == "warn" {
		o.above("! %-12s %s: %s\n", stack, ev.Step, ev.Message)
		return
	}
	line := ev.Step + ": " + ev.Message
	if ev.Total > 0 {
		line = fmt.Sprintf("%s [%s]", line, bar(ev.Done, ev.Total))
	}
	o.lines[stack] = line
}

func bar(done, total int) string {
	const width = 10
	n := min(width*done/total, width)
	return strings.Repeat("#", n) + strings.Repeat(".", width-n)
}

func (o *liveObserver) Done(r engine.StackResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, s := range o.order {
		if s == r.Stack {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
	delete(o.lines, r.Stack)
	mark := map[engine.Outcome]string{engine.OK: "✓", engine.Skipped: "-"}[r.Outcome]
	if mark == "" {
		mark = "✗"
	}
	o.above("%s %s\n", mark, outcomeLine(r))
}
