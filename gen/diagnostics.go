package gen

import (
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
)

// Diagnostics are reported as [hcl.Diagnostics], by both front ends and every stage: in
// each one, Subject is the position in the user's file, Summary the field path or empty,
// Detail the message, and Extra a *[diag.Extra]. The functions below order and print
// them; they are internal/diag's, under gen's names.

// DiagnosticExtra is what daemongen adds to an [hcl.Diagnostic]: the daemons it was
// found in, and a warning's id.
type DiagnosticExtra = diag.Extra

// The formats [WriteDiagnosticsAs] writes.
const (
	FormatText   = diag.FormatText
	FormatJSON   = diag.FormatJSON
	FormatGitHub = diag.FormatGitHub
	FormatSARIF  = diag.FormatSARIF
)

// Formats lists the formats [WriteDiagnosticsAs] writes.
var Formats = diag.Formats

// WarningID returns the id of a warning, or "".
func WarningID(d *hcl.Diagnostic) string { return diag.WarningID(d) }

// Normalize merges diagnostics that say the same thing at the same place, and sorts them by
// file, line, column, severity (errors first) and text.
func Normalize(diags hcl.Diagnostics) hcl.Diagnostics { return diag.Normalize(diags) }

// RelativeName returns filename relative to dir, with slashes.
func RelativeName(dir, filename string) string { return diag.RelativeName(dir, filename) }

// FormatDiagnostic writes one diagnostic as text, its file relative to dir.
func FormatDiagnostic(d *hcl.Diagnostic, dir string) string { return diag.FormatDiagnostic(d, dir) }

// WriteDiagnostics writes diagnostics as text.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, dir string) error {
	return diag.WriteDiagnostics(w, diags, dir)
}

// WriteDiagnosticsColored writes diagnostics as text, colored for a terminal.
func WriteDiagnosticsColored(w io.Writer, diags hcl.Diagnostics, dir string) error {
	return diag.WriteDiagnosticsColored(w, diags, dir)
}

// WriteDiagnosticsAs writes diagnostics in format, one of [Formats].
func WriteDiagnosticsAs(w io.Writer, diags hcl.Diagnostics, dir, format string) error {
	return diag.WriteDiagnosticsAs(w, diags, dir, format)
}
