// Package check is the evaluator: it checks one daemon in API form against the schema. A
// shape walk reports unknown fields and wrong kinds with suggestions; #Fields decides the
// values, by its Go fast path where that is sure (fastfields.go) and by CUE otherwise; and
// #Rules, the rules between fields, run as their Go form (rules.go) where that is sure.
// Tests hold each Go form to its CUE original.
package check

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// evaluatorLifetime is how many daemons one evaluator checks before it is replaced: a
// cue.Context keeps what every evaluation allocated, so a long-lived one grows without
// bound and slows the garbage collector. Recompiling the schema costs about as much as
// checking one daemon.
const evaluatorLifetime = 250

// Evaluator checks API-form daemons against the schema. Its Go fast paths ([FastFields],
// [CrossFieldRules]) decide most daemons; for the rest it owns one cue.Context, made on
// first use, and the schema compiled in it. It is not safe for concurrent use.
type Evaluator struct {
	ctx    *cue.Context
	fields cue.Value
	// lean is #Fields without its error messages (see [schema.Lean]): the CUE check of
	// data the fast path is not sure of, most likely valid. It is compiled for the
	// context's second daemon, so that a run of one daemon does not pay for it.
	lean  cue.Value
	rules cue.Value
	uses  int // the daemons the context has checked
}

// NewEvaluator returns an evaluator; its CUE context is made when first needed.
func NewEvaluator() *Evaluator { return &Evaluator{} }

// build returns api as a CUE value in the evaluator's context, which it makes (again) when
// needed.
func (e *Evaluator) build(api *node.Node) cue.Value {
	if e.uses++; e.ctx == nil || e.uses > evaluatorLifetime {
		ctx := cuecontext.New()
		_, fields, rules := schema.Compile(ctx)
		*e = Evaluator{ctx: ctx, fields: fields, rules: rules, uses: 1}
	}
	return e.ctx.BuildExpr(encoding.Expr(api))
}

// Check validates one daemon task definition in API form. It reports every problem at once,
// each at the position the offending value was written; api is left as it is. concise is
// set for a daemon of a spec, whose messages may suggest the spec's forms.
func (e *Evaluator) Check(api *node.Node, concise bool) (diags hcl.Diagnostics) {
	api, diags = CheckShape(api, api, nil, concise)

	var data cue.Value // built when CUE is needed
	if !FastFields().accepts(api) {
		data = e.build(api)
		if err := data.Err(); err != nil {
			return append(diags, cueDiagnostics(api, err, hcl.DiagError)...)
		}
		// The lean #Fields accepts exactly what #Fields accepts; only data it rejects
		// needs #Fields' own messages.
		if e.uses > 1 && !e.lean.Exists() {
			e.lean = schema.CompileLeanFields(e.ctx)
		}
		if !e.lean.Exists() || data.Unify(e.lean).Validate(cue.Concrete(true)) != nil {
			err := data.Unify(e.fields).Validate(cue.Concrete(true), cue.All())
			diags = append(diags, cueDiagnostics(api, err, hcl.DiagError)...)
		}
	}

	errs, warns, sure := CrossFieldRules(api)
	if !sure {
		// Only data #Fields rejects gets here: let the schema itself say what its rules
		// make of it.
		if !data.Exists() {
			if data = e.build(api); data.Err() != nil {
				return append(diags, cueDiagnostics(api, data.Err(), hcl.DiagError)...)
			}
		}
		var failed error
		errs, warns, failed = e.schemaRules(data)
		if failed != nil && len(diags) == 0 {
			diags = append(diags, cueDiagnostics(api, failed, hcl.DiagError)...)
		}
	}
	for _, f := range errs {
		diags = append(diags, DiagAt(api, f.Path, hcl.DiagError, f.Msg))
	}
	for _, f := range warns {
		d := DiagAt(api, f.Path, hcl.DiagWarning, f.Msg)
		diag.ExtraOf(d).WarningID = f.ID
		diags = append(diags, d)
	}
	return diags
}

// schemaRules evaluates #Rules of the schema on data. #Rules reads the data as written
// and cannot fail on data that #Fields accepts, since every read has a fallback; on data
// #Fields rejects a rule may fail to evaluate, and failed says why. A list that fails
// is left empty.
func (e *Evaluator) schemaRules(data cue.Value) (errs, warns []Finding, failed error) {
	rules := e.rules.FillPath(cue.MakePath(cue.Str("in")), data)
	decode := func(name string) []Finding {
		var found []struct {
			ID   string
			Path []any
			Msg  string
		}
		if err := rules.LookupPath(cue.ParsePath(name)).Decode(&found); err != nil {
			if failed == nil {
				failed = err
			}
			return nil
		}
		out := make([]Finding, len(found))
		for i, f := range found {
			if f.Msg == "" {
				panic(fmt.Sprintf("gen: #Rules.%s has an entry without a message: %v", name, f))
			}
			path := make([]any, len(f.Path))
			for k, p := range f.Path {
				switch n := p.(type) {
				case int64:
					path[k] = int(n)
				case float64:
					path[k] = int(n)
				default:
					path[k] = p
				}
			}
			out[i] = Finding{ID: f.ID, Path: path, Msg: f.Msg}
		}
		return out
	}
	return decode("errors"), decode("warnings"), failed
}

// CheckShape walks the data along the schema: it reports fields the schema does not know
// (with the closest known name), fields that daemons do not support, and missing required
// fields, and returns n without the first two, for the checks that follow: CUE reports them
// too, but an unknown field in a struct hides the struct's other errors from CUE's
// validation. n itself is never changed: what changes is copied, and n is returned as it is
// when nothing does.
func CheckShape(root, n *node.Node, path []any, concise bool) (*node.Node, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	switch n.Kind {
	case node.List:
		i := -1
		n = n.ReplaceElems(func(e *node.Node) *node.Node {
			i++
			checked, ds := CheckShape(root, e, append(slices.Clip(path), i), concise)
			diags = append(diags, ds...)
			return checked
		})
	case node.Struct:
		apath := schema.AbstractPath(path)
		sn := schema.Index()[apath]
		if sn == nil || sn.IsMap {
			return n, nil
		}
		var explained map[string]bool // required fields an unknown field's suggestion names
		n = n.Replace(func(f *node.Field) *node.Node {
			sf := sn.Fields[f.Name]
			fp := append(slices.Clip(path), f.Name)
			switch {
			case sf == nil:
				msg, suggested := schema.UnknownFieldMessage(apath, f, concise)
				if explained == nil {
					explained = map[string]bool{}
				}
				explained[suggested] = true
				if suggested == lang.FieldContainers {
					explained["containerDefinitions"] = true // what containers becomes
				}
				diags = append(diags, diag.New(hcl.DiagError, f.Value.Pos, pathFor(root, fp, f.Value.Pos), msg))
				return nil // pruned
			case sf.Unsupported != "":
				diags = append(diags, diag.New(hcl.DiagError, f.Value.Pos, pathFor(root, fp, f.Value.Pos), sf.Unsupported))
				return nil // pruned
			}
			checked, ds := CheckShape(root, f.Value, fp, concise)
			diags = append(diags, ds...)
			return checked
		})
		for _, name := range sn.Order {
			// A missing field that a misspelt one was meant to be is that one mistake.
			if sn.Fields[name].Required && n.Get(name) == nil && !explained[name] {
				if lang.InHCL(n.Pos) {
					name = lang.Snake(name)
				}
				diags = append(diags, diag.New(hcl.DiagError, n.Pos, pathFor(root, path, n.Pos),
					fmt.Sprintf("missing required field %s", name)))
			}
		}
	}
	return n, diags
}

// cueDiagnostics converts a CUE validation error into diagnostics at the user's positions.
func cueDiagnostics(root *node.Node, err error, sev hcl.DiagnosticSeverity) (diags hcl.Diagnostics) {
	if err == nil {
		return nil
	}
	byPath := map[string][]*hcl.Diagnostic{}
	var order []string
	for _, e := range errors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		path, ok := dataPath(root, errors.Path(e))
		if !ok {
			continue
		}
		// CUE also reports a missing required field, and checkShape already did.
		if strings.HasSuffix(msg, "field is required but not present") || msg == "field not allowed" {
			continue
		}
		d := DiagAt(root, path, sev, msg)
		key := d.Summary
		if _, seen := byPath[key]; !seen {
			order = append(order, key)
		}
		byPath[key] = append(byPath[key], d)
	}
	for _, key := range order {
		ds := byPath[key]
		// A failed disjunction also says "N errors in empty disjunction"; the custom
		// message next to it is the one to show.
		var specific []*hcl.Diagnostic
		for _, d := range ds {
			if !emptyDisjunction.MatchString(d.Detail) {
				specific = append(specific, d)
			}
		}
		if len(specific) == 0 {
			specific = ds[:1]
		}
		diags = append(diags, specific...)
	}
	return diags
}

var emptyDisjunction = regexp.MustCompile(`^\d+ errors in empty disjunction:?$`)

// dataPath turns a CUE error path into a data path: list indexes become ints, and a hidden
// check field _at_NAME stands for the field NAME (or, for _at_, its enclosing struct).
func dataPath(root *node.Node, sels []string) ([]any, bool) {
	var path []any
	cur := root
	for _, s := range sels {
		if strings.HasPrefix(s, "_at_") {
			if rest := strings.TrimPrefix(s, "_at_"); rest != "" {
				path = append(path, rest)
			}
			return path, true
		}
		if strings.HasPrefix(s, "_") || strings.HasPrefix(s, "#") {
			return nil, false
		}
		if u, err := strconv.Unquote(s); err == nil {
			s = u // a label such as "awslogs-region"
		}
		if cur != nil && cur.Kind == node.List {
			if n, err := strconv.Atoi(s); err == nil {
				path = append(path, n)
				cur = node.Elem(cur, n)
				continue
			}
		}
		path = append(path, s)
		if cur != nil {
			cur = cur.Get(s)
		}
	}
	return path, true
}

// DiagAt returns a diagnostic for the value at path, at its position, or at the position of
// the nearest enclosing value when it is missing.
func DiagAt(root *node.Node, path []any, sev hcl.DiagnosticSeverity, msg string) *hcl.Diagnostic {
	found, deepest := root.Lookup(path)
	at := deepest
	if found != nil {
		at = found
		msg = explainValue(found, path, msg)
		if found.Sensitive && found.Text != "" {
			// CUE's own messages may quote the value.
			msg = strings.ReplaceAll(strings.ReplaceAll(msg, strconv.Quote(found.Text), node.SensitiveText), found.Text, node.SensitiveText)
		}
	}
	return diag.New(sev, at.Pos, pathFor(root, path, at.Pos), msg)
}

// pathFor writes path in the vocabulary of the file at pos: the API's for CUE and JSON
// (containerDefinitions[agent].healthCheck.timeout), HCL's for .hcl files
// (container.agent.health_check.timeout).
func pathFor(root *node.Node, path []any, pos token.Pos) string {
	if !lang.InHCL(pos) {
		return renderPath(root, path)
	}
	var parts []string
	cur := root
	for i := 0; i < len(path); i++ {
		name, ok := path[i].(string)
		if !ok {
			parts = append(parts, fmt.Sprint(path[i]))
			continue
		}
		cur = cur.Get(name)
		concise := name
		if name == "containerDefinitions" {
			concise = "containers" // the one keyed list whose concise name differs
		}
		if block, keyed := lang.KeyedBlock(concise); keyed && i+1 < len(path) {
			if idx, isIndex := path[i+1].(int); isIndex && cur != nil {
				e := node.Elem(cur, idx)
				parts = append(parts, block, elemLabel(e, idx))
				cur, i = e, i+1
				continue
			}
		}
		if lang.IsMapAttribute(name) && i+1 < len(path) {
			// A keyed list written as a map attribute (environment = { LEVEL = "x" }):
			// the element is its key, and its value the map's value.
			if idx, isIndex := path[i+1].(int); isIndex && cur != nil {
				e := node.Elem(cur, idx)
				parts = append(parts, lang.Snake(name), elemLabel(e, idx))
				cur, i = e, i+1
				if i+1 == len(path)-1 && (path[i+1] == "value" || path[i+1] == "valueFrom") {
					i++
				}
				continue
			}
		}
		parts = append(parts, lang.Snake(name))
	}
	return strings.Join(parts, ".")
}

var (
	mismatchedTypes = regexp.MustCompile(`^conflicting values .* \(mismatched types (\w+) and (\w+)\)$`)
	outOfBound      = regexp.MustCompile(`^invalid value .* \(out of bound (.*)\)$`)
)

// kindWords name CUE's kinds the way messages speak of them.
var kindWords = map[string]string{
	"string": "a string", "int": "a whole number", "float": "a number", "number": "a number",
	"bool": "true or false", "list": "a list", "struct": "a struct", "null": "null",
}

// explainValue rewrites a message about the value n into the form
// "invalid value X: must ...", with a suggestion for a misspelt enum value.
func explainValue(n *node.Node, path []any, msg string) string {
	if n.Kind == node.List || n.Kind == node.Struct {
		if m := mismatchedTypes.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("must be %s, not %s", kindWords[m[2]], n.Kind)
		}
		return msg
	}
	if m := mismatchedTypes.FindStringSubmatch(msg); m != nil {
		msg = "must be " + kindWords[m[2]]
	} else if m := outOfBound.FindStringSubmatch(msg); m != nil {
		msg = "must be " + m[1]
	}
	if !strings.HasPrefix(msg, "must ") {
		return msg
	}
	msg = fmt.Sprintf("invalid value %s: %s", n.Literal(), msg)
	if s, ok := n.Str(); ok {
		if enum := enumAt(path); len(enum) > 0 {
			if best := diag.Suggest(s, enum); best != "" && best != s {
				msg += fmt.Sprintf("; did you mean %q?", best)
			}
		}
	}
	return msg
}

// enumAt returns the allowed values of the enum field at path, if it is one.
func enumAt(path []any) []string {
	if len(path) == 0 {
		return nil
	}
	idx := schema.Index()
	last := path[len(path)-1]
	if _, isIndex := last.(int); isIndex && len(path) >= 2 {
		if sn := idx[schema.AbstractPath(path[:len(path)-2])]; sn != nil {
			if f := sn.Fields[fmt.Sprint(path[len(path)-2])]; f != nil {
				return f.ElemEnum
			}
		}
		return nil
	}
	if sn := idx[schema.AbstractPath(path[:len(path)-1])]; sn != nil {
		if f := sn.Fields[fmt.Sprint(last)]; f != nil {
			return f.Enum
		}
	}
	return nil
}

// identifying names the field that identifies an element of each list, for paths such as
// containerDefinitions[agent].
var identifying = []string{"name", "key", "containerName", "sourceVolume", "namespace", "hostPath", "containerPath"}

// elemLabel names list element e, at index i, by its identifying field, or by i.
func elemLabel(e *node.Node, i int) string {
	for _, id := range identifying {
		if v, ok := e.Get(id).Str(); ok && v != "" {
			return v
		}
	}
	return strconv.Itoa(i)
}

// renderPath writes a data path for people: list elements by their name where they have
// one (containerDefinitions[agent].memory), by index otherwise.
func renderPath(root *node.Node, path []any) string {
	var b strings.Builder
	cur := root
	for _, p := range path {
		switch s := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
			cur = cur.Get(s)
		case int:
			var e *node.Node
			if cur != nil {
				e = node.Elem(cur, s)
			}
			fmt.Fprintf(&b, "[%s]", elemLabel(e, s))
			cur = e
		}
	}
	return b.String()
}
