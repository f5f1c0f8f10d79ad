// Package diag is daemongen's one diagnostics type, for both front ends and every stage:
// an [hcl.Diagnostic] whose Subject is the position in the user's file, Summary the field
// path (containerDefinitions[agent].memory) or, for a problem of the file itself, empty,
// and Detail the message, which names what is allowed. Extra is an *[Extra]. The package
// also orders and prints diagnostics (text, JSON, GitHub annotations, SARIF) and suggests
// the name meant ("did you mean").
package diag

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/safefile"
)

// Extra is what daemongen adds to an [hcl.Diagnostic].
type Extra struct {
	// Contexts are the daemons (family, or family/environment) the problem was found in:
	// a default or a shared value shows up in several.
	Contexts []string
	// WarningID is the stable id of a warning (see [WarningIDs]).
	WarningID string
}

// ExtraOf returns d's DiagnosticExtra, adding one when it has none.
func ExtraOf(d *hcl.Diagnostic) *Extra {
	x, ok := d.Extra.(*Extra)
	if !ok {
		x = &Extra{}
		d.Extra = x
	}
	return x
}

// WarningID returns the id of a warning, or "".
func WarningID(d *hcl.Diagnostic) string {
	if x, ok := d.Extra.(*Extra); ok {
		return x.WarningID
	}
	return ""
}

// New returns a diagnostic at pos.
func New(sev hcl.DiagnosticSeverity, pos token.Pos, path, msg string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: sev, Summary: path, Detail: msg, Subject: RangeAt(pos)}
}

// RangeAt turns a CUE position into an HCL range of one character.
func RangeAt(pos token.Pos) *hcl.Range {
	if !pos.IsValid() {
		return &hcl.Range{}
	}
	return PositionRange(pos.Position())
}

// PositionRange is rangeAt for a resolved position.
func PositionRange(p token.Position) *hcl.Range {
	start := hcl.Pos{Line: p.Line, Column: p.Column, Byte: p.Offset}
	end := hcl.Pos{Line: p.Line, Column: p.Column + 1, Byte: p.Offset + 1}
	return &hcl.Range{Filename: p.Filename, Start: start, End: end}
}

func contexts(d *hcl.Diagnostic) []string {
	if x, ok := d.Extra.(*Extra); ok {
		return x.Contexts
	}
	return nil
}

// WithContext tags every diagnostic with the daemon it was found in.
func WithContext(diags hcl.Diagnostics, ctx string) hcl.Diagnostics {
	if ctx == "" {
		return diags
	}
	for _, d := range diags {
		x := ExtraOf(d)
		x.Contexts = append(slices.Clone(x.Contexts), ctx)
	}
	return diags
}

func subject(d *hcl.Diagnostic) hcl.Range {
	if d.Subject == nil {
		return hcl.Range{}
	}
	return *d.Subject
}

// Normalize merges diagnostics that say the same thing at the same place, and sorts them by
// file, line, column, severity (errors first) and text. One mistake in a default or an
// overlay shows in every daemon, environment and container it reaches: it is reported once,
// with the daemons it was found in, and with one path (see [CommonPath]).
func Normalize(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		file              string
		line, col         int
		sev               hcl.DiagnosticSeverity
		detail, placeless string
	}
	seen := map[key]*hcl.Diagnostic{}
	paths := map[*hcl.Diagnostic][]string{} // every path a merged diagnostic was found at
	var out hcl.Diagnostics
	for _, d := range diags {
		r := subject(d)
		k := key{r.Filename, r.Start.Line, r.Start.Column, d.Severity, d.Detail, ""}
		if r.Filename == "" {
			k.placeless = d.Summary // problems without a place merge only when they say the same
		}
		if prev, ok := seen[k]; ok {
			merged := append(slices.Clone(contexts(prev)), contexts(d)...)
			slices.Sort(merged)
			ExtraOf(prev).Contexts = slices.Compact(merged)
			if !slices.Contains(paths[prev], d.Summary) {
				paths[prev] = append(paths[prev], d.Summary)
			}
			continue
		}
		seen[k] = d
		paths[d] = []string{d.Summary}
		out = append(out, d)
	}
	for d, ps := range paths {
		d.Summary = commonPath(ps)
	}
	slices.SortStableFunc(out, func(a, b *hcl.Diagnostic) int {
		ra, rb := subject(a), subject(b)
		return cmp.Or(
			cmp.Compare(ra.Filename, rb.Filename),
			cmp.Compare(ra.Start.Line, rb.Start.Line),
			cmp.Compare(ra.Start.Column, rb.Start.Column),
			cmp.Compare(a.Severity, b.Severity),
			cmp.Compare(a.Summary, b.Summary),
			cmp.Compare(a.Detail, b.Detail),
		)
	})
	return out
}

// pathElement splits a rendered path into its elements: names and [labels].
var pathElement = regexp.MustCompile(`\[[^\]]*\]|[^.\[]+`)

// CommonPath joins the paths one value was found at (in several daemons, environments or
// containers) into one. A path as the user wrote it (defaults.container.memory, from the
// spec's structure check) wins over the API paths of the daemons the value reaches.
// Otherwise the elements where the paths differ list what they are, so that a message
// still names each container: containerDefinitions[a, agent, b].memory, or in HCL's names
// container.{a, agent, b}.memory (at most maxContexts, then how many more).
func commonPath(paths []string) string {
	var written []string
	for _, p := range paths {
		first, _, _ := strings.Cut(p, ".")
		if slices.Contains(lang.SpecSections, first) {
			written = append(written, p)
		}
	}
	if len(written) > 0 {
		paths = written
	}
	if len(paths) == 1 {
		return paths[0]
	}
	elems := make([][]string, len(paths))
	for i, p := range paths {
		elems[i] = pathElement.FindAllString(p, -1)
		if len(elems[i]) != len(elems[0]) {
			return paths[0]
		}
	}
	var out strings.Builder
	for i := range elems[0] {
		var variants []string
		for _, e := range elems {
			v := strings.TrimSuffix(strings.TrimPrefix(e[i], "["), "]")
			if !slices.Contains(variants, v) {
				variants = append(variants, v)
			}
		}
		bracket := strings.HasPrefix(elems[0][i], "[")
		e := elems[0][i]
		if len(variants) > 1 {
			slices.Sort(variants)
			list := strings.Join(variants, ", ")
			if len(variants) > MaxContexts {
				list = fmt.Sprintf("%s and %d more", strings.Join(variants[:MaxContexts], ", "), len(variants)-MaxContexts)
			}
			if bracket {
				e = "[" + list + "]"
			} else {
				e = "{" + list + "}"
			}
		}
		if i > 0 && !bracket {
			out.WriteByte('.')
		}
		out.WriteString(e)
	}
	return out.String()
}

// MaxContexts is how many daemons a message names before it says how many more.
const MaxContexts = 5

// inContexts writes " (in a, b, c and 480 more)" for the daemons a problem was found in.
func inContexts(d *hcl.Diagnostic) string {
	cs := contexts(d)
	if len(cs) == 0 {
		return ""
	}
	if len(cs) > MaxContexts {
		return fmt.Sprintf(" (in %s and %d more)", strings.Join(cs[:MaxContexts], ", "), len(cs)-MaxContexts)
	}
	return fmt.Sprintf(" (in %s)", strings.Join(cs, ", "))
}

// RelativeName returns filename relative to dir (../platform/defaults.cue for a file of a
// sibling folder, as cue writes it), with slashes.
func RelativeName(dir, filename string) string {
	if dir != "" && filepath.IsAbs(filename) {
		if rel, err := filepath.Rel(dir, filename); err == nil {
			filename = rel
		}
	}
	return filepath.ToSlash(filename)
}

// FormatDiagnostic renders one diagnostic the way compilers do:
// "file:line:col: path: message (in daemon)", with "warning: " before warnings.
func FormatDiagnostic(d *hcl.Diagnostic, dir string) string { return formatDiagnostic(d, dir, noColor) }

// palette holds the ANSI escapes that color a diagnostic on a terminal, as HCL's
// diagnostic writer and terraform color theirs: the place bold, the severity (the word
// warning, or an error's path) and the caret in its color. noColor writes plain text.
type palette struct{ bold, err, warn, reset string }

var (
	noColor   = palette{}
	ansiColor = palette{bold: "\x1b[1m", err: "\x1b[1;31m", warn: "\x1b[1;33m", reset: "\x1b[0m"}
)

// severity returns the escape of d's severity.
func (p palette) severity(d *hcl.Diagnostic) string {
	if d.Severity == hcl.DiagWarning {
		return p.warn
	}
	return p.err
}

func formatDiagnostic(d *hcl.Diagnostic, dir string, p palette) string {
	var b strings.Builder
	r := subject(d)
	switch {
	case r.Filename != "" && r.Start.Line > 0:
		fmt.Fprintf(&b, "%s%s:%d:%d:%s ", p.bold, RelativeName(dir, r.Filename), r.Start.Line, r.Start.Column, p.reset)
	case r.Filename != "":
		fmt.Fprintf(&b, "%s%s:%s ", p.bold, RelativeName(dir, r.Filename), p.reset)
	}
	if d.Severity == hcl.DiagWarning {
		b.WriteString(p.warn + "warning:" + p.reset + " ")
	}
	if d.Summary != "" {
		if d.Severity == hcl.DiagWarning {
			b.WriteString(d.Summary)
		} else {
			b.WriteString(p.err + d.Summary + p.reset)
		}
		b.WriteString(": ")
	}
	b.WriteString(d.Detail)
	if id := WarningID(d); id != "" {
		fmt.Fprintf(&b, " [%s]", id)
	}
	b.WriteString(inContexts(d))
	return b.String()
}

// Diagnostic formats.
const (
	FormatText   = "text"
	FormatJSON   = "json"
	FormatGitHub = "github"
	FormatSARIF  = "sarif"
)

// Formats lists the diagnostic formats.
var Formats = []string{FormatText, FormatJSON, FormatGitHub, FormatSARIF}

// jsonDiagnostic is a diagnostic in the json format.
type jsonDiagnostic struct {
	Severity string   `json:"severity"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Path     string   `json:"path,omitempty"`
	Message  string   `json:"message"`
	ID       string   `json:"id,omitempty"`
	Daemons  []string `json:"daemons,omitempty"`
}

// WriteDiagnosticsAs writes diags in format: text (see [WriteDiagnostics]), json (one array
// of objects with severity, file, line, column, path, message and daemons) or github
// (GitHub Actions annotations: ::error file=F,line=L,col=C,title=PATH::MESSAGE).
func WriteDiagnosticsAs(w io.Writer, diags hcl.Diagnostics, dir, format string) error {
	switch format {
	case FormatJSON:
		out := make([]jsonDiagnostic, 0, len(diags))
		for _, d := range diags {
			r := subject(d)
			sev := "error"
			if d.Severity == hcl.DiagWarning {
				sev = "warning"
			}
			jd := jsonDiagnostic{Severity: sev, Line: r.Start.Line, Column: r.Start.Column, Path: d.Summary, Message: d.Detail, ID: WarningID(d), Daemons: contexts(d)}
			if r.Filename != "" {
				jd.File = RelativeName(dir, r.Filename)
			}
			out = append(out, jd)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	case FormatSARIF:
		return writeSARIF(w, diags, dir)
	case FormatGitHub:
		for _, d := range diags {
			r := subject(d)
			kind := "error"
			if d.Severity == hcl.DiagWarning {
				kind = "warning"
			}
			var props []string
			if r.Filename != "" {
				props = append(props, "file="+githubEscape(RelativeName(dir, r.Filename), true))
			}
			if r.Start.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", r.Start.Line), fmt.Sprintf("col=%d", r.Start.Column))
			}
			if d.Summary != "" {
				props = append(props, "title="+githubEscape(d.Summary, true))
			}
			msg := d.Detail
			if id := WarningID(d); id != "" {
				msg += fmt.Sprintf(" [%s]", id)
			}
			msg += inContexts(d)
			if _, err := fmt.Fprintf(w, "::%s %s::%s\n", kind, strings.Join(props, ","), githubEscape(msg, false)); err != nil {
				return err
			}
		}
		return nil
	default:
		return WriteDiagnostics(w, diags, dir)
	}
}

// invalidRuleID is the SARIF rule of every error: the spec or definition breaks a rule of
// the API (or of the spec language), which the message names. Warnings have their ids.
const invalidRuleID = "invalid"

// sarifURIBase is the base that SARIF locations are relative to: where daemongen ran
// (the repository's root in CI).
const sarifURIBase = "%SRCROOT%"

// writeSARIF writes diags as one SARIF 2.1.0 log, as GitHub code scanning reads it: a rule
// for errors (invalid) and one per warning id, each with its help, and a result per
// diagnostic located in the spec file, relative to dir.
func writeSARIF(w io.Writer, diags hcl.Diagnostics, dir string) error {
	type text struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID                   string `json:"id"`
		Name                 string `json:"name,omitempty"`
		ShortDescription     text   `json:"shortDescription"`
		Help                 text   `json:"help"`
		DefaultConfiguration struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine   int `json:"startLine,omitempty"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
			Region *region `json:"region,omitempty"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		Level     string     `json:"level"`
		Message   text       `json:"message"`
		Locations []location `json:"locations,omitempty"`
	}
	rules := []rule{}
	index := map[string]bool{}
	addRule := func(id, level, example string) {
		if index[id] {
			return
		}
		index[id] = true
		r := rule{ID: id}
		if id == invalidRuleID {
			r.ShortDescription.Text = "The spec or definition breaks a rule of RegisterDaemonTaskDefinition or of the spec language"
			r.Help.Text = "Each result names the field, what it allows and, where it helps, what was meant. Fix the value at the result's line; the run fails until then."
		} else {
			r.ShortDescription.Text = "daemongen warning " + id
			r.Help.Text = example + ". Acknowledge it where it is weighed with ignoreWarnings: [\"" + id + "\"] in any layer of the spec; --strict makes the warnings left errors."
		}
		r.DefaultConfiguration.Level = level
		rules = append(rules, r)
	}
	results := []result{}
	for _, d := range diags {
		id, level := WarningID(d), "error"
		if d.Severity == hcl.DiagWarning {
			level = "warning"
		}
		if id == "" {
			id = invalidRuleID
		}
		addRule(id, level, d.Detail)
		msg := d.Detail
		if d.Summary != "" {
			msg = d.Summary + ": " + msg
		}
		res := result{RuleID: id, Level: level, Message: text{msg + inContexts(d)}}
		if r := subject(d); r.Filename != "" {
			var loc location
			loc.PhysicalLocation.ArtifactLocation.URI = RelativeName(dir, r.Filename)
			loc.PhysicalLocation.ArtifactLocation.URIBaseID = sarifURIBase
			if r.Start.Line > 0 {
				loc.PhysicalLocation.Region = &region{r.Start.Line, max(r.Start.Column, 1)}
			}
			res.Locations = []location{loc}
		}
		results = append(results, res)
	}
	type driver struct {
		Name           string `json:"name"`
		InformationURI string `json:"informationUri"`
		Rules          []rule `json:"rules"`
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": driver{"daemongen", "https://github.com/daemongen/daemongen", rules}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// githubEscape escapes a workflow command's data, or a property value.
func githubEscape(s string, property bool) string {
	s = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
	if property {
		s = strings.NewReplacer(":", "%3A", ",", "%2C").Replace(s)
	}
	return s
}

// WriteDiagnostics writes diags one per line, file names relative to dir. Below a
// diagnostic in an .hcl file it shows the source line with a caret, as HCL tools do.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, dir string) error {
	return writeText(w, diags, dir, noColor)
}

// WriteDiagnosticsColored is WriteDiagnostics in color, for a terminal: the same text,
// with the place, the severity and the caret colored.
func WriteDiagnosticsColored(w io.Writer, diags hcl.Diagnostics, dir string) error {
	return writeText(w, diags, dir, ansiColor)
}

func writeText(w io.Writer, diags hcl.Diagnostics, dir string, p palette) error {
	sources := map[string][]string{}
	for _, d := range diags {
		if _, err := fmt.Fprintln(w, formatDiagnostic(d, dir, p)); err != nil {
			return err
		}
		r := subject(d)
		if lang.Of(r.Filename) != lang.HCL || r.Start.Line < 1 {
			continue
		}
		lines, ok := sources[r.Filename]
		if !ok {
			name := r.Filename
			if !filepath.IsAbs(name) && dir != "" {
				name = filepath.Join(dir, name)
			}
			if b, err := safefile.Read(name, node.MaxFileSize); err == nil {
				lines = strings.Split(string(b), "\n")
			}
			sources[r.Filename] = lines
		}
		if r.Start.Line > len(lines) {
			continue
		}
		line := strings.ReplaceAll(lines[r.Start.Line-1], "\t", " ")
		gutter := fmt.Sprintf("%5d | ", r.Start.Line)
		caret := strings.Repeat(" ", len(gutter)-2) + "| " + strings.Repeat(" ", max(r.Start.Column-1, 0)) + p.severity(d) + "^" + p.reset
		if _, err := fmt.Fprintf(w, "%s%s\n%s\n", gutter, line, caret); err != nil {
			return err
		}
	}
	return nil
}
