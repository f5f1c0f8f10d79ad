package hclspec

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/daemongen/daemongen/internal/safefile"
)

// Inputs are the values of variables, as Terraform takes them, lowest first: the defaults,
// DAEMONGEN_VAR_name environment variables (Environ), VarFiles in order (the spec folder's
// *.auto.vars.hcl first, then --var-file), and Vars from the command line (--var).
type Inputs struct {
	// Vars maps a variable to its value as written on the command line: taken as it is for
	// a string variable, parsed as an HCL expression for any other type.
	Vars map[string]string
	// VarFiles are files of name = value lines, HCL or, for names ending in .json, JSON
	// objects (.vars.json), applied in order.
	VarFiles []string
	// Environ is the environment, as os.Environ gives it: DAEMONGEN_VAR_name=value sets the
	// variable name, as TF_VAR_name does in Terraform. Names no variable declares are
	// ignored, since the environment is shared with everything else.
	Environ []string
	// Secrets, when set, collects the text of every sensitive value the evaluation meets,
	// so that the caller keeps it out of every message (see [Secrets.Redact]).
	Secrets *Secrets
}

// Secrets is the text of the sensitive values of a run: the values of sensitive
// variables, of locals computed from them, and map keys computed from them. Safe for
// concurrent use; a nil *Secrets collects nothing and redacts nothing.
type Secrets struct {
	mu    sync.Mutex
	texts []string // longest first, so that a longer secret is replaced before a part of it
}

// minSecretLength is the shortest text Redact replaces: a shorter value (a port, "1") is
// no secret, and replacing it everywhere would garble every message.
const minSecretLength = 4

// add records the text of the sensitive value v and of everything it holds.
func (s *Secrets) add(v cty.Value) {
	if s == nil || !v.IsKnown() || v.IsNull() {
		return
	}
	v, _ = v.UnmarkDeep()
	var texts []string
	cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.IsKnown() && !v.IsNull() {
			switch v.Type() {
			case cty.String:
				texts = append(texts, v.AsString())
			case cty.Number:
				texts = append(texts, v.AsBigFloat().Text('f', -1))
			}
		}
		return true, nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range texts {
		if len(t) >= minSecretLength && !slices.Contains(s.texts, t) {
			s.texts = append(s.texts, t)
		}
	}
	slices.SortFunc(s.texts, func(a, b string) int { return len(b) - len(a) })
}

// addMarked records every sensitive value that v holds.
func (s *Secrets) addMarked(v cty.Value) {
	if s == nil {
		return
	}
	cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.HasMark(Sensitive) {
			s.add(v)
			return false, nil
		}
		return true, nil
	})
}

// Redact returns msg with the text of every sensitive value replaced by (sensitive value).
func (s *Secrets) Redact(msg string) string {
	if s == nil {
		return msg
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.texts {
		msg = strings.ReplaceAll(msg, t, "(sensitive value)")
	}
	return msg
}

// Sensitive marks the values of variables declared with sensitive = true, and everything
// computed from them.
const Sensitive = sensitiveMark("sensitive")

type sensitiveMark string

// EnvVarPrefix starts the environment variables that set variables.
const EnvVarPrefix = "DAEMONGEN_VAR_"

// AutoVarFileSuffix names the variable files that a spec folder's specs load by themselves,
// in name order, as Terraform loads *.auto.tfvars.
const AutoVarFileSuffix = ".auto.vars.hcl"

func parseVariable(b *hclsyntax.Block) (*variable, hcl.Diagnostics) {
	v := &variable{block: b, typ: cty.DynamicPseudoType}
	var diags hcl.Diagnostics
	for _, a := range sortedAttributes(b.Body) {
		switch a.Name {
		case "type":
			ty, ds := typeexpr.TypeConstraint(a.Expr)
			diags = append(diags, ds...)
			v.typ = ty
		case "default":
			val, ds := a.Expr.Value(nil)
			diags = append(diags, ds...)
			v.def = &val
		case "sensitive":
			val, ds := a.Expr.Value(nil)
			diags = append(diags, ds...)
			if !ds.HasErrors() && val.Type() == cty.Bool && val.IsKnown() && !val.IsNull() {
				v.sensitive = val.True()
			}
		case "description", "nullable":
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument",
				Detail:  fmt.Sprintf("A variable takes type, default and description, not %q%s", a.Name, suggestion(a.Name, []string{"type", "default", "description"})),
				Subject: a.NameRange.Ptr()})
		}
	}
	for _, blk := range b.Body.Blocks {
		diags = append(diags, unsupportedBlock(blk, nil))
	}
	if v.def != nil && v.typ != cty.DynamicPseudoType {
		conv, err := convert.Convert(*v.def, v.typ)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default value for variable",
				Detail: fmt.Sprintf("The default does not fit type %s: %s.", typeexpr.TypeString(v.typ), err), Subject: b.DefRange().Ptr()})
		} else {
			v.def = &conv
		}
	}
	return v, diags
}

// evalContext resolves the variables and locals for env and returns the context that
// expressions are evaluated in.
func (s *Spec) evalContext(env string, in Inputs) (*hcl.EvalContext, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	values := map[string]cty.Value{}
	given := map[string]bool{} // a value was given, valid or not: never "has no default"
	set := func(name string, val cty.Value, subject *hcl.Range) {
		given[name] = true
		v, ok := s.vars[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail:  fmt.Sprintf("A value is given for %q, which no variable block declares%s", name, suggestion(name, s.varNames())),
				Subject: subject})
			return
		}
		conv, err := convert.Convert(val, v.typ)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("The value given for %q does not fit type %s: %s.", name, typeexpr.TypeString(v.typ), err), Subject: subject})
			return
		}
		values[name] = conv
	}
	// fromText sets a variable from text written outside HCL (--var, the environment):
	// as it is for a string variable, as an HCL expression for any other type.
	fromText := func(name, raw, source string) {
		v, ok := s.vars[name]
		if ok && (v.typ == cty.String || v.typ == cty.DynamicPseudoType) {
			set(name, cty.StringVal(raw), nil)
			return
		}
		expr, ds := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
		if !ds.HasErrors() {
			var val cty.Value
			if val, ds = expr.Value(nil); !ds.HasErrors() {
				set(name, val, nil)
				return
			}
		}
		given[name] = true
		typ := "HCL"
		if ok {
			typ = typeexpr.TypeString(v.typ)
		}
		shown := raw
		if ok && v.sensitive {
			shown = "(sensitive value)"
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("%s=%s is not a valid %s value.", source, shown, typ)})
	}
	var fromEnv []string // NAME=value, for the declared variables only
	for _, kv := range in.Environ {
		rest, prefixed := strings.CutPrefix(kv, EnvVarPrefix)
		if name, _, hasValue := strings.Cut(rest, "="); prefixed && hasValue && s.vars[name] != nil {
			fromEnv = append(fromEnv, rest)
		}
	}
	slices.Sort(fromEnv)
	for _, kv := range fromEnv {
		name, value, _ := strings.Cut(kv, "=")
		fromText(name, value, EnvVarPrefix+name)
	}
	for _, path := range in.VarFiles {
		diags = append(diags, readVarFile(path, set)...)
	}
	names := make([]string, 0, len(in.Vars))
	for name := range in.Vars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fromText(name, in.Vars[name], "--var "+name)
	}
	for _, name := range s.varNames() {
		if _, ok := values[name]; ok || given[name] {
			continue
		}
		if v := s.vars[name]; v.def != nil {
			values[name] = *v.def
		} else {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
				Detail:  fmt.Sprintf("The variable %q has no default; set it with --var %s=VALUE or in a --var-file.", name, name),
				Subject: v.block.DefRange().Ptr()})
		}
	}
	// A sensitive variable's value is marked: the mark follows it through every expression
	// and function, so that whatever is derived from it is known to be sensitive too.
	for name, val := range values {
		if s.vars[name] != nil && s.vars[name].sensitive {
			values[name] = val.Mark(Sensitive)
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(values), "env": cty.StringVal(env)},
		Functions: s.functions(),
	}
	diags = append(diags, s.resolveLocals(ctx)...)
	in.Secrets.addMarked(ctx.Variables["var"])
	in.Secrets.addMarked(ctx.Variables["local"])
	return ctx, diags
}

// readVarFile reads the variable file path (HCL, or JSON for a .json name) and sets each
// of its attributes, in source order.
func readVarFile(path string, set func(name string, val cty.Value, subject *hcl.Range)) hcl.Diagnostics {
	src, err := safefile.Read(path, MaxVarFileSize)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: err.Error()}}
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = hcljson.Parse(src, path)
	} else {
		f, diags = hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return diags
	}
	attrs, ds := f.Body.JustAttributes()
	diags = append(diags, ds...)
	for _, a := range inSourceOrder(attrs, func(a *hcl.Attribute) hcl.Range { return a.Range }) {
		val, ds := a.Expr.Value(nil)
		diags = append(diags, ds...)
		if !ds.HasErrors() {
			set(a.Name, val, a.NameRange.Ptr())
		}
	}
	return diags
}

func (s *Spec) varNames() []string {
	names := make([]string, 0, len(s.vars))
	for name := range s.vars {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// resolveLocals evaluates the locals in dependency order: each pass evaluates those whose
// references to other locals are all known, as Terraform does.
func (s *Spec) resolveLocals(ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	values := map[string]cty.Value{}
	ctx.Variables["local"] = cty.EmptyObjectVal
	pending := slices.Clone(s.locals)
	seen := map[string]*hclsyntax.Attribute{}
	for _, a := range pending {
		if prev, dup := seen[a.Name]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate local value",
				Detail: fmt.Sprintf("local.%s is also defined at %s:%d.", a.Name, prev.NameRange.Filename, prev.NameRange.Start.Line), Subject: a.NameRange.Ptr()})
		}
		seen[a.Name] = a
	}
	for len(pending) > 0 {
		var next []*hclsyntax.Attribute
		for _, a := range pending {
			ready := true
			for _, t := range a.Expr.Variables() {
				if t.RootName() != "local" || len(t) < 2 {
					continue
				}
				if attr, ok := t[1].(hcl.TraverseAttr); ok {
					if _, done := values[attr.Name]; !done && seen[attr.Name] != nil {
						ready = false
					}
				}
			}
			if !ready {
				next = append(next, a)
				continue
			}
			val, ds := a.Expr.Value(ctx)
			diags = append(diags, ds...)
			if d := checkValueSize(val, "local."+a.Name, a.Expr.Range()); d != nil {
				diags = append(diags, d)
				val = cty.DynamicVal // unknown: what depends on it is not evaluated further
			}
			values[a.Name] = val
			ctx.Variables["local"] = cty.ObjectVal(values)
		}
		if len(next) == len(pending) {
			for _, a := range next {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in local values",
					Detail: fmt.Sprintf("local.%s depends on itself through other locals.", a.Name), Subject: a.NameRange.Ptr()})
			}
			break
		}
		pending = next
	}
	return diags
}

// functions is the function library of expressions: go-cty's standard library under
// Terraform's names, and file(), which reads relative to the spec's folder.
func (s *Spec) functions() map[string]function.Function {
	return map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc, "replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc,
		"substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"strrev":    stdlib.ReverseFunc,
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "keys": stdlib.KeysFunc,
		"length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc, "merge": stdlib.MergeFunc,
		"range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc, "setunion": stdlib.SetUnionFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc,
		"zipmap":     stdlib.ZipmapFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc,
		"tostring":  stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool),
		"file":   s.fileFunc(),
	}
}

// fileFunc reads a file, relative to the spec's folder, as a UTF-8 string. It reads only
// regular files of at most MaxFileFunctionSize bytes: not a device, a FIFO or a socket,
// which could block or never end, and not binary data, which JSON cannot carry as it is.
func (s *Spec) fileFunc() function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			p := name
			if !filepath.IsAbs(p) {
				p = filepath.Join(s.dir, p)
			}
			b, err := safefile.Read(p, MaxFileFunctionSize)
			var tooLarge *safefile.LimitError
			var special *safefile.NotRegularError
			switch {
			case errors.As(err, &tooLarge):
				return cty.NilVal, fmt.Errorf("cannot read %s: it is %d bytes, and file() reads at most %d (%d MiB)", name, tooLarge.Size, MaxFileFunctionSize, MaxFileFunctionSize>>20)
			case errors.As(err, &special):
				return cty.NilVal, fmt.Errorf("cannot read %s: %s, not a regular file", name, safefile.Describe(special.Mode))
			case err != nil:
				return cty.NilVal, fmt.Errorf("cannot read %s: %v", name, errors.Unwrap(err))
			case !utf8.Valid(b):
				return cty.NilVal, fmt.Errorf("cannot read %s: not UTF-8 text (file() reads text, not binary data)", name)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}
