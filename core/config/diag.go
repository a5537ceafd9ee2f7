package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Line formats one diagnostic as "file:line:col: severity: summary: detail".
func Line(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	where := ""
	if d.Subject != nil {
		where = fmt.Sprintf("%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	msg := d.Summary
	if d.Detail != "" {
		msg += ": " + d.Detail
	}
	return where + sev + ": " + msg
}

// Lines formats diagnostics one per line.
func Lines(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(Line(d))
		b.WriteByte('\n')
	}
	return b.String()
}
