// Package hclspec turns HCL daemon specs into CUE: the same spec structure as the CUE form
// (daemons, defaults, groups, environments), as a CUE expression whose every value carries
// its position in the .hcl file, so that the embedded schema's errors point into it.
//
// Attribute and block names are the API's in snake_case (task_role_arn, health_check).
// Keyed things are labeled blocks with singular names (container "agent", volume "logs",
// mount_point "logs", ulimit "nofile", secret "API_KEY"); free-form maps are attributes
// (environment, tags, options, depends_on, system_controls); nested structs are blocks.
// Expressions may use var.NAME, local.NAME, env (the environment's name) and the usual
// function library (format, upper, merge, concat, lookup, jsonencode, file, ...).
package hclspec

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
)

// Spec is a parsed set of HCL files that together make one spec.
type Spec struct {
	files  []*file
	vars   map[string]*variable
	locals []*hclsyntax.Attribute
	// envs are the names of the environment blocks, in source order.
	envs []string
	// top are the top-level blocks that hold spec content.
	top []*hclsyntax.Block
	// dir is where file() reads relative paths from.
	dir string
}

type file struct {
	name  string
	src   []byte
	body  *hclsyntax.Body
	token *token.File
}

type variable struct {
	block     *hclsyntax.Block
	typ       cty.Type
	def       *cty.Value
	sensitive bool
}

// Top-level block types.
const (
	blockVariable    = "variable"
	blockLocals      = "locals"
	blockDefaults    = "defaults"
	blockGroup       = "group"
	blockEnvironment = "environment"
	blockDaemon      = "daemon"
)

var topLevel = []string{blockDaemon, blockDefaults, blockGroup, blockEnvironment, blockVariable, blockLocals}

// Parse parses the HCL files of one spec. sources maps each file name to its content; the
// files are read in the order of names. dir is where file() resolves relative paths.
func Parse(names []string, sources map[string][]byte, dir string) (*Spec, hcl.Diagnostics) {
	s := &Spec{vars: map[string]*variable{}, dir: dir}
	var diags hcl.Diagnostics
	for _, name := range names {
		src := sources[name]
		if ds := checkNesting(src, name); ds.HasErrors() {
			diags = append(diags, ds...)
			continue
		}
		f, ds := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		diags = append(diags, ds...)
		if ds.HasErrors() {
			continue
		}
		tf := token.NewFile(name, -1, len(src))
		tf.SetLinesForContent(src)
		hf := &file{name: name, src: src, body: f.Body.(*hclsyntax.Body), token: tf}
		s.files = append(s.files, hf)
		for _, attr := range sortedAttributes(hf.body) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail:   fmt.Sprintf("An argument named %q is not expected at the top level; a spec has %s blocks.", attr.Name, strings.Join(topLevel, ", ")),
				Subject:  attr.NameRange.Ptr(),
			})
		}
		for _, b := range hf.body.Blocks {
			diags = append(diags, s.addTopBlock(b)...)
		}
	}
	return s, diags
}

func (s *Spec) addTopBlock(b *hclsyntax.Block) hcl.Diagnostics {
	want := map[string]int{blockVariable: 1, blockLocals: 0, blockDefaults: 0, blockGroup: 1, blockEnvironment: 1, blockDaemon: 1}
	n, known := want[b.Type]
	if !known {
		return hcl.Diagnostics{unsupportedBlock(b, topLevel)}
	}
	if len(b.Labels) != n {
		return hcl.Diagnostics{labelCount(b, n)}
	}
	switch b.Type {
	case blockVariable:
		if prev, dup := s.vars[b.Labels[0]]; dup {
			return hcl.Diagnostics{duplicate(b, "variable", prev.block)}
		}
		v, diags := parseVariable(b)
		s.vars[b.Labels[0]] = v
		return diags
	case blockLocals:
		s.locals = append(s.locals, sortedAttributes(b.Body)...)
		return nil
	case blockEnvironment:
		if !slices.Contains(s.envs, b.Labels[0]) {
			s.envs = append(s.envs, b.Labels[0])
		}
	}
	s.top = append(s.top, b)
	return nil
}

// Environments returns the names of the declared environments, in source order.
func (s *Spec) Environments() []string { return slices.Clone(s.envs) }

// EnvBlock is one environment block: its name, where it is, and whether it only overlays
// daemons (holds daemon blocks and nothing else), which declares nothing of its own.
type EnvBlock struct {
	Name        string
	Range       hcl.Range
	OverlayOnly bool
}

// EnvBlocks returns every environment block, in source order.
func (s *Spec) EnvBlocks() []EnvBlock {
	var out []EnvBlock
	for _, b := range s.top {
		if b.Type != blockEnvironment || len(b.Labels) == 0 {
			continue
		}
		overlay := len(b.Body.Attributes) == 0 && len(b.Body.Blocks) > 0
		for _, inner := range b.Body.Blocks {
			overlay = overlay && inner.Type == blockDaemon
		}
		out = append(out, EnvBlock{b.Labels[0], b.LabelRanges[0], overlay})
	}
	return out
}

// EnvName is a name that an expression compares env with (env == "prod").
type EnvName struct {
	Name  string
	Range hcl.Range
}

// EnvComparisons returns the names that expressions compare env with, in source order:
// each must be a declared environment, or the comparison is silently never true.
func (s *Spec) EnvComparisons() []EnvName {
	var out []EnvName
	for _, f := range s.files {
		hclsyntax.VisitAll(f.body, func(n hclsyntax.Node) hcl.Diagnostics {
			op, ok := n.(*hclsyntax.BinaryOpExpr)
			if !ok || (op.Op != hclsyntax.OpEqual && op.Op != hclsyntax.OpNotEqual) {
				return nil
			}
			for _, pair := range [][2]hclsyntax.Expression{{op.LHS, op.RHS}, {op.RHS, op.LHS}} {
				if isEnvRef(pair[0]) {
					if name, ok := literalString(pair[1]); ok {
						out = append(out, EnvName{name, pair[1].Range()})
					}
				}
			}
			return nil
		})
	}
	return out
}

func isEnvRef(e hclsyntax.Expression) bool {
	t, ok := e.(*hclsyntax.ScopeTraversalExpr)
	return ok && len(t.Traversal) == 1 && t.Traversal.RootName() == "env"
}

// literalString returns the value of a string literal ("prod"), if e is one.
func literalString(e hclsyntax.Expression) (string, bool) {
	tpl, ok := e.(*hclsyntax.TemplateExpr)
	if !ok || !tpl.IsStringLiteral() {
		return "", false
	}
	v, diags := tpl.Value(nil)
	if diags.HasErrors() || !v.Type().Equals(cty.String) {
		return "", false
	}
	return v.AsString(), true
}

// fileOf returns the parsed file a range lies in.
func (s *Spec) fileOf(r hcl.Range) *file {
	for _, f := range s.files {
		if f.name == r.Filename {
			return f
		}
	}
	return nil
}

// Pos turns the start of an HCL range into a CUE position in the same file.
func (s *Spec) Pos(r hcl.Range) token.Pos { return s.pos(r) }

// pos turns an HCL position into a CUE position in the same file.
func (s *Spec) pos(r hcl.Range) token.Pos {
	f := s.fileOf(r)
	if f == nil {
		return token.NoPos
	}
	return f.token.Pos(r.Start.Byte, token.NoRelPos)
}

// Failed says which daemons an evaluation's own errors reach: an attribute whose
// expression failed, or a block the vocabulary lacks, leaves a value out, and the
// daemons whose layers it is in would only report knock-ons of the missing value.
type Failed struct {
	// All is set for a failure in defaults, or in the environment's defaults.
	All bool
	// Groups are the groups with a failure in their defaults; Daemons the daemons with
	// one in their block or their environment overlay.
	Groups, Daemons map[string]bool
}

// Reaches reports whether a failure reaches the daemon key of group group.
func (f *Failed) Reaches(key, group string) bool {
	return f != nil && (f.All || f.Daemons[key] || group != "" && f.Groups[group])
}

// CUE evaluates the spec for environment env ("" when there are none) with the given
// variables, and returns it as a CUE struct with positions. Only environment env's block
// is kept, and `env` is env in every expression. sensitive holds the positions, in expr,
// of the values derived from variables declared sensitive: what messages must not show.
// failed says which daemons the evaluation's own errors reach; nil when there are none.
func (s *Spec) CUE(env string, in Inputs) (expr ast.Expr, sensitive map[token.Pos]bool, failed *Failed, diags hcl.Diagnostics) {
	ctx, diags := s.evalContext(env, in)
	if diags.HasErrors() {
		return nil, nil, nil, diags
	}
	c := &converter{spec: s, ctx: ctx, sensitive: map[token.Pos]bool{}, secrets: in.Secrets}
	// failing records what a conversion that added errors since before reaches.
	failing := func(before int, mark func(f *Failed)) {
		if !c.diags[before:].HasErrors() {
			return
		}
		if failed == nil {
			failed = &Failed{Groups: map[string]bool{}, Daemons: map[string]bool{}}
		}
		mark(failed)
	}
	root := &ast.StructLit{}
	// Blocks of the same kind from several files merge into one struct.
	sections := map[string]*ast.StructLit{}
	section := func(name string, pos token.Pos) *ast.StructLit {
		if sl, ok := sections[name]; ok {
			return sl
		}
		sl := &ast.StructLit{Lbrace: pos}
		sections[name] = sl
		root.Elts = append(root.Elts, field(name, sl, pos))
		return sl
	}
	seen := map[string]*hclsyntax.Block{}
	for _, b := range s.top {
		pos := s.pos(b.DefRange())
		key := b.Type + "\x00" + strings.Join(b.Labels, "\x00")
		// defaults and environment blocks may be split across files and merge; a daemon
		// or group defined twice is a mistake.
		if prev, dup := seen[key]; dup && b.Type != blockDefaults && b.Type != blockEnvironment {
			diags = append(diags, duplicate(b, b.Type, prev))
			continue
		}
		seen[key] = b
		before := len(c.diags)
		switch b.Type {
		case blockDefaults:
			sl := section("defaults", pos)
			sl.Elts = append(sl.Elts, c.body(b.Body, true).Elts...)
			failing(before, func(f *Failed) { f.All = true })
		case blockDaemon:
			section("daemons", pos).Elts = append(section("daemons", pos).Elts, field(b.Labels[0], c.body(b.Body, false), s.pos(b.LabelRanges[0])))
			failing(before, func(f *Failed) { f.Daemons[b.Labels[0]] = true })
		case blockGroup:
			g := &ast.StructLit{}
			for _, d := range b.Body.Blocks {
				if d.Type == blockDefaults {
					g.Elts = append(g.Elts, field("defaults", c.body(d.Body, true), s.pos(d.DefRange())))
				}
			}
			g.Elts = append(g.Elts, c.otherMembers(b.Body, blockDefaults)...)
			failing(before, func(f *Failed) { f.Groups[b.Labels[0]] = true })
			section("groups", pos).Elts = append(section("groups", pos).Elts, field(b.Labels[0], g, s.pos(b.LabelRanges[0])))
		case blockEnvironment:
			e := &ast.StructLit{}
			if b.Labels[0] == env {
				e.Elts = append(e.Elts, c.otherMembers(b.Body, blockDefaults, blockDaemon)...)
				failing(before, func(f *Failed) { f.All = true })
				var daemons *ast.StructLit
				for _, d := range b.Body.Blocks {
					before := len(c.diags)
					switch {
					case d.Type == blockDefaults:
						e.Elts = append(e.Elts, field("defaults", c.body(d.Body, true), s.pos(d.DefRange())))
						failing(before, func(f *Failed) { f.All = true })
					case d.Type == blockDaemon && len(d.Labels) == 1:
						if daemons == nil {
							daemons = &ast.StructLit{}
							e.Elts = append(e.Elts, field("daemons", daemons, s.pos(d.DefRange())))
						}
						daemons.Elts = append(daemons.Elts, field(d.Labels[0], c.body(d.Body, false), s.pos(d.LabelRanges[0])))
						failing(before, func(f *Failed) { f.Daemons[d.Labels[0]] = true })
					case d.Type == blockDaemon:
						diags = append(diags, labelCount(d, 1))
					}
				}
			}
			section("environments", pos).Elts = append(section("environments", pos).Elts, field(b.Labels[0], e, s.pos(b.LabelRanges[0])))
		}
	}
	return root, c.sensitive, failed, append(diags, c.diags...)
}

// field returns a CUE field whose label is at pos.
func field(name string, value ast.Expr, pos token.Pos) *ast.Field {
	label := ast.NewString(name)
	ast.SetPos(label, pos)
	f := &ast.Field{Label: label, Value: value}
	ast.SetPos(f, pos)
	return f
}

// field returns a CUE field for the value val converted to value, with its label at pos.
// A value is located by its label as often as by its expression, so a sensitive value's
// label position is recorded as sensitive too.
func (c *converter) field(name string, val cty.Value, value ast.Expr, pos token.Pos) *ast.Field {
	if val.HasMark(Sensitive) {
		c.sensitive[pos] = true
	}
	return field(name, value, pos)
}

// sortedAttributes returns a body's attributes in source order: hclsyntax keeps them in a
// map, and diagnostics and output must not depend on map order.
func sortedAttributes(body *hclsyntax.Body) []*hclsyntax.Attribute {
	return inSourceOrder(body.Attributes, func(a *hclsyntax.Attribute) hcl.Range { return a.SrcRange })
}

// inSourceOrder returns the values of m, a map of HCL items by name, in source order.
func inSourceOrder[T any](m map[string]T, rangeOf func(T) hcl.Range) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return rangeOf(a).Start.Byte - rangeOf(b).Start.Byte })
	return out
}

// converter turns evaluated HCL bodies into CUE structs.
type converter struct {
	spec  *Spec
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
	// sensitive are the positions of the values derived from sensitive variables.
	sensitive map[token.Pos]bool
	// secrets collects the text of sensitive map keys, which no position marks.
	secrets *Secrets
}

// body converts a daemon-like body: attributes become fields (names in camelCase, values
// evaluated), blocks become structs, keyed structs or lists. In a defaults body, an
// unlabeled container block holds the defaults for every container.
func (c *converter) body(b *hclsyntax.Body, defaults bool) *ast.StructLit {
	sl := &ast.StructLit{Lbrace: c.spec.pos(b.SrcRange)}
	names := map[string]hcl.Range{}
	for _, a := range sortedAttributes(b) {
		if a.Name == blockContainer || slices.Contains(lang.StructBlocks, a.Name) || isKeyedBlockType(a.Name) {
			c.diags = append(c.diags, blockNotAttribute(a))
			continue
		}
		val, ds := a.Expr.Value(c.ctx)
		c.diags = append(c.diags, ds...)
		if ds.HasErrors() {
			continue
		}
		if d := checkValueSize(val, a.Name, a.Expr.Range()); d != nil {
			c.diags = append(c.diags, d)
			continue
		}
		name := lang.Camel(a.Name)
		names[name] = a.NameRange
		sl.Elts = append(sl.Elts, c.field(name, val, c.value(val, a.Expr, keysOf(a.Name)), c.spec.pos(a.NameRange)))
	}
	keyed := map[string]*ast.StructLit{}
	labels := map[string]*hclsyntax.Block{}
	lists := map[string]*ast.ListLit{}
	single := map[string]*hclsyntax.Block{}
	for _, blk := range b.Blocks {
		pos := c.spec.pos(blk.DefRange())
		if slices.Contains(lang.MapAttributes, blk.Type) {
			c.diags = append(c.diags, attributeNotBlock(blk))
			continue
		}
		typ := blk.Type
		if _, known := lang.KeyedBlocks[typ]; !known && len(blk.Labels) == 1 {
			// A misspelt labeled block is reported, then read as the block it was meant
			// to be, so that its content causes no knock-on errors.
			c.diags = append(c.diags, unsupportedBlock(blk, slices.Sorted(maps.Keys(lang.KeyedBlocks))))
			if typ = diag.Suggest(typ, slices.Collect(maps.Keys(lang.KeyedBlocks))); typ == "" {
				continue
			}
		}
		switch plural, isKeyed := lang.KeyedBlocks[typ]; {
		case isKeyed && len(blk.Labels) == 1:
			id := typ + "\x00" + blk.Labels[0]
			if prev, dup := labels[id]; dup {
				c.diags = append(c.diags, duplicate(blk, fmt.Sprintf("%s %q", blk.Type, blk.Labels[0]), prev))
				continue
			}
			labels[id] = blk
			m := keyed[plural]
			if m == nil {
				m = &ast.StructLit{Lbrace: pos}
				keyed[plural] = m
				sl.Elts = append(sl.Elts, field(plural, m, pos))
			}
			m.Elts = append(m.Elts, field(blk.Labels[0], c.body(blk.Body, false), c.spec.pos(blk.LabelRanges[0])))
		case blk.Type == blockContainer && defaults && len(blk.Labels) == 0:
			if prev, dup := single[blk.Type]; dup {
				c.diags = append(c.diags, duplicate(blk, blk.Type, prev))
				continue
			}
			single[blk.Type] = blk
			sl.Elts = append(sl.Elts, field(blockContainer, c.body(blk.Body, false), pos))
		case isKeyed:
			c.diags = append(c.diags, labelCount(blk, 1))
		default:
			if len(blk.Labels) > 0 {
				if _, known := lang.ListBlocks[blk.Type]; known {
					c.diags = append(c.diags, labelCount(blk, 0))
				} else if len(blk.Labels) > 1 {
					c.diags = append(c.diags, unsupportedBlock(blk, slices.Sorted(maps.Keys(lang.KeyedBlocks))))
				}
				continue
			}
			if plural, isList := lang.ListBlocks[blk.Type]; isList {
				l := lists[plural]
				if l == nil {
					l = &ast.ListLit{Lbrack: pos}
					lists[plural] = l
					sl.Elts = append(sl.Elts, field(plural, l, pos))
				}
				l.Elts = append(l.Elts, c.body(blk.Body, false))
				continue
			}
			if prev, dup := single[blk.Type]; dup {
				c.diags = append(c.diags, duplicate(blk, blk.Type, prev))
				continue
			}
			single[blk.Type] = blk
			name := lang.Camel(blk.Type)
			if r, clash := names[name]; clash {
				c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate argument",
					Detail:  fmt.Sprintf("%s is set both as an argument (at line %d) and as a block.", blk.Type, r.Start.Line),
					Subject: blk.DefRange().Ptr()})
				continue
			}
			sl.Elts = append(sl.Elts, field(name, c.body(blk.Body, false), pos))
		}
	}
	return sl
}

// blockContainer is the block of one container ("NAME") or, in defaults, of every container.
const blockContainer = "container"

func isKeyedBlockType(name string) bool { _, ok := lang.KeyedBlocks[name]; return ok }

// blockNotAttribute reports a nested struct written as an attribute.
func blockNotAttribute(a *hclsyntax.Attribute) *hcl.Diagnostic {
	form := a.Name + " { ... }"
	if isKeyedBlockType(a.Name) {
		form = a.Name + ` "NAME" { ... }`
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument",
		Detail:  fmt.Sprintf("%s is a block, not an argument: write %s.", a.Name, form),
		Subject: a.NameRange.Ptr()}
}

// attributeNotBlock reports a map written as a block, whose argument names would be taken
// for field names.
func attributeNotBlock(b *hclsyntax.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported block type",
		Detail:  fmt.Sprintf("%s is an argument that takes a map, not a block: write %s = { KEY = VALUE }, with an equals sign.", b.Type, b.Type),
		Subject: b.TypeRange.Ptr()}
}

// objectKeys says what the keys of an object value are.
type objectKeys int

const (
	fieldKeys objectKeys = iota // field names: snake_case becomes the API's camelCase
	nameKeys                    // names or data: kept as written
)

// keysOf returns what the keys of the object value of the attribute or field name are.
func keysOf(name string) objectKeys {
	if slices.Contains(lang.MapAttributes, lang.Snake(name)) {
		return nameKeys
	}
	return fieldKeys
}

// value converts an evaluated value into CUE. Where the expression is a tuple or object
// constructor, each element gets its own position; otherwise all of it gets expr's. keyKind
// says whether the keys of an object value are field names or names.
func (c *converter) value(val cty.Value, expr hclsyntax.Expression, keyKind objectKeys) ast.Expr {
	out := c.plain(val, expr, keyKind)
	pos := c.spec.pos(expr.Range())
	setPos(out, pos)
	if val.HasMark(Sensitive) {
		c.sensitive[pos] = true
	}
	return out
}

// setPos positions a CUE expression. A struct or list literal is positioned by its opening
// brace: ast.SetPos would move its first element instead.
func setPos(x ast.Expr, pos token.Pos) {
	switch x := x.(type) {
	case *ast.StructLit:
		x.Lbrace = pos
	case *ast.ListLit:
		x.Lbrack = pos
	default:
		ast.SetPos(x, pos)
	}
}

func (c *converter) plain(val cty.Value, expr hclsyntax.Expression, keyKind objectKeys) ast.Expr {
	if !val.IsKnown() || val.IsNull() {
		return ast.NewNull()
	}
	val, _ = val.Unmark()
	ty := val.Type()
	switch {
	case ty == cty.String:
		return ast.NewString(val.AsString())
	case ty == cty.Bool:
		return ast.NewBool(val.True())
	case ty == cty.Number:
		return number(val.AsBigFloat())
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var elems []hclsyntax.Expression
		if t, ok := expr.(*hclsyntax.TupleConsExpr); ok && len(t.Exprs) == val.LengthInt() && !ty.IsSetType() {
			elems = t.Exprs
		}
		l := &ast.ListLit{}
		for i, e := range val.AsValueSlice() {
			ex := expr
			if elems != nil {
				ex = elems[i]
			}
			// The elements of a list are API-form structs: their keys are field names.
			l.Elts = append(l.Elts, c.value(e, ex, fieldKeys))
		}
		return l
	case ty.IsMapType() || ty.IsObjectType():
		items := map[string]hclsyntax.Expression{}
		keys := map[string]hclsyntax.Expression{}
		if o, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range o.Items {
				k, ds := item.KeyExpr.Value(c.ctx)
				if ds.HasErrors() || k.Type() != cty.String || !k.IsKnown() || k.IsNull() {
					continue
				}
				if k.HasMark(Sensitive) {
					// A key computed from a sensitive value: a key like any other, kept
					// out of messages by the run's Secrets.
					c.secrets.add(k)
					k, _ = k.Unmark()
				}
				items[k.AsString()] = item.ValueExpr
				keys[k.AsString()] = item.KeyExpr
			}
		}
		s := &ast.StructLit{}
		for k, v := range val.AsValueMap() {
			ex, kex := expr, hclsyntax.Expression(nil)
			if e, ok := items[k]; ok {
				ex, kex = e, keys[k]
			}
			pos := c.spec.pos(ex.Range())
			if kex != nil {
				pos = c.spec.pos(kex.Range())
			}
			name, childKeys := k, fieldKeys
			if keyKind == fieldKeys {
				name, childKeys = lang.Camel(k), keysOf(k)
			}
			s.Elts = append(s.Elts, c.field(name, v, c.value(v, ex, childKeys), pos))
		}
		slices.SortFunc(s.Elts, func(a, b ast.Decl) int {
			return strings.Compare(labelOf(a), labelOf(b))
		})
		return s
	}
	return ast.NewNull()
}

func labelOf(d ast.Decl) string {
	if f, ok := d.(*ast.Field); ok {
		if l, ok := f.Label.(*ast.BasicLit); ok {
			return l.Value
		}
	}
	return ""
}

// number writes a cty number as a CUE literal: whole numbers as integers.
func number(f *big.Float) ast.Expr {
	if f.IsInt() {
		i, _ := f.Int(nil)
		return &ast.BasicLit{Kind: token.INT, Value: i.String()}
	}
	return &ast.BasicLit{Kind: token.FLOAT, Value: f.Text('g', -1)}
}

func unsupportedBlock(b *hclsyntax.Block, allowed []string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unsupported block type",
		Detail:   fmt.Sprintf("Blocks of type %q are not expected here%s", b.Type, suggestion(b.Type, allowed)),
		Subject:  b.TypeRange.Ptr(),
	}
}

func labelCount(b *hclsyntax.Block, n int) *hcl.Diagnostic {
	what := "no labels"
	if n == 1 {
		what = "one label, its name"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Wrong number of labels",
		Detail:   fmt.Sprintf("A %s block takes %s.", b.Type, what),
		Subject:  b.DefRange().Ptr(),
	}
}

func duplicate(b *hclsyntax.Block, what string, prev *hclsyntax.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + what + " block",
		Detail:   fmt.Sprintf("This %s block repeats the one at %s:%d.", what, prev.DefRange().Filename, prev.DefRange().Start.Line),
		Subject:  b.DefRange().Ptr(),
	}
}

// otherMembers converts the attributes and blocks of a group or environment body other
// than the blocks it holds, so that the spec check reports each at its line, with the name
// it was likely meant to be, as a mistake in the spec's structure.
func (c *converter) otherMembers(body *hclsyntax.Body, known ...string) []ast.Decl {
	var decls []ast.Decl
	for _, a := range sortedAttributes(body) {
		if val, ds := a.Expr.Value(c.ctx); !ds.HasErrors() && checkValueSize(val, a.Name, a.Expr.Range()) == nil {
			decls = append(decls, field(lang.Camel(a.Name), c.value(val, a.Expr, fieldKeys), c.spec.pos(a.NameRange)))
		}
	}
	for _, b := range body.Blocks {
		if !slices.Contains(known, b.Type) {
			// Read as defaults: a misspelt defaults block is the likely one.
			decls = append(decls, field(lang.Camel(b.Type), c.body(b.Body, true), c.spec.pos(b.TypeRange)))
		}
	}
	return decls
}

// suggestion returns "; did you mean "x"?" for the closest of candidates, or ".".
func suggestion(name string, candidates []string) string {
	if best := diag.Suggest(name, candidates); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "."
}
