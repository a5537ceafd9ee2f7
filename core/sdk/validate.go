package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Diagnostic is one problem with a stack's config. Attribute is the path of the attribute
// it is about: "retention", "app_namespaces[2]" (an element of a list), or
// "environment.prod.replicas" (an attribute of a labelled block); the host turns it into
// lab.hcl's file, line and column. Empty means the stack block as a whole.
type Diagnostic struct {
	Severity  string // SeverityError or SeverityWarning
	Summary   string // optional; the host writes `Invalid value for "<attribute>"` when empty
	Detail    string
	Attribute string
}

// Diagnostic severities.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Diagnostics is what Validate returns.
type Diagnostics []Diagnostic

// Errorf adds an error about an attribute.
func (d *Diagnostics) Errorf(attribute, format string, args ...any) {
	*d = append(*d, Diagnostic{Severity: SeverityError, Attribute: attribute, Detail: sprintf(format, args...)})
}

// Warnf adds a warning about an attribute.
func (d *Diagnostics) Warnf(attribute, format string, args ...any) {
	*d = append(*d, Diagnostic{Severity: SeverityWarning, Attribute: attribute, Detail: sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Err joins the errors into one, each prefixed with its attribute; nil without errors.
func (d Diagnostics) Err() error {
	var errs []error
	for _, x := range d {
		if x.Severity == SeverityWarning {
			continue
		}
		msg := x.Detail
		if x.Summary != "" {
			msg = strings.TrimSpace(x.Summary + ": " + msg)
		}
		if x.Attribute != "" {
			msg = x.Attribute + ": " + msg
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// Validator is implemented by a stack whose config has rules its schema cannot say (one
// attribute against another, a duration, a name). The host calls it before any cluster is
// created or any stack touched, and the SDK calls it again before every work method, so a
// plugin never works on a config it would refuse. Validate must not reach the cluster:
// req.Cluster is empty when lab validates.
type Validator interface {
	Validate(ctx context.Context, req *Request) Diagnostics
}

// validate runs the stack's Validator, if it has one.
func validate(ctx context.Context, impl Stack, req *Request) Diagnostics {
	v, ok := impl.(Validator)
	if !ok {
		return nil
	}
	return v.Validate(ctx, req)
}

// Index is the path of a list element, for Diagnostic.Attribute: Index("projects", 2) is
// "projects[2]".
func Index(attribute string, i int) string { return fmt.Sprintf("%s[%d]", attribute, i) }
