package engine

import (
	"time"

	"github.com/nexolab/lab/core/sdk"
)

// Observer hears what the engine does, to show it.
type Observer interface {
	// Start says a stack begins an action (install, upgrade, uninstall, ...).
	Start(stack string, action Action)
	Event(stack string, ev sdk.Event)
	Done(r StackResult)
}

// Outcome of one stack's action.
type Outcome string

const (
	OK      Outcome = "ok"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
)

// StackResult is what happened to one stack.
type StackResult struct {
	Stack   string
	Action  Action
	Outcome Outcome
	// Step is the last step the plugin reported, where a failure happened.
	Step     string
	Err      error
	Duration time.Duration
	Result   *sdk.Result
}

type nopObserver struct{}

func (nopObserver) Start(string, Action)    {}
func (nopObserver) Event(string, sdk.Event) {}
func (nopObserver) Done(StackResult)        {}
