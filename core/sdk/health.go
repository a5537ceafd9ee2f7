package sdk

import "fmt"

// Status is the state of one health check, from best to worst; Skipped counts as neither.
type Status string

const (
	Healthy   Status = "healthy"
	Degraded  Status = "degraded"
	Unhealthy Status = "unhealthy"
	// Skipped is for a check that cannot run on this cluster (a probe on kwok).
	Skipped Status = "skipped"
)

func (s Status) rank() int {
	switch s {
	case Healthy:
		return 0
	case Degraded:
		return 1
	case Unhealthy:
		return 2
	}
	return -1
}

// Worse returns the worse of two statuses; Skipped never wins.
func Worse(a, b Status) Status {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Check is one named health check.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Message string `json:"message"`
}

// Endpoint is a URL the stack serves.
type Endpoint struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Health is a stack's health: its checks and the URLs it serves.
type Health struct {
	Checks    []Check
	Endpoints []Endpoint
}

// Add appends a check.
func (h *Health) Add(name string, status Status, format string, args ...any) {
	h.Checks = append(h.Checks, Check{Name: name, Status: status, Message: sprintf(format, args...)})
}

// SkipSimulated adds a check that needs a running container or operator, which a simulated
// (kwok) cluster has none of: what names what was confirmed instead, if anything.
func (h *Health) SkipSimulated(name, what string) {
	msg := "not checked: no container runs on a simulated (kwok) cluster"
	if what != "" {
		msg += "; " + what
	}
	h.Add(name, Skipped, "%s", msg)
}

// Status is the worst status of the checks; a stack with only skipped checks is healthy.
func (h *Health) Status() Status {
	s := Healthy
	for _, c := range h.Checks {
		s = Worse(s, c.Status)
	}
	return s
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
