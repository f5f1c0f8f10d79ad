package check

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// FastFields is #Fields of the lean schema compiled into Go checks: the fast path of
// [evaluator.check] for data that is valid, which is nearly all data. It is compiled from
// the schema's own syntax when first used, so the schema stays the one definition of every
// field rule; what it cannot read (a construct this compiler does not know, a condition it
// cannot evaluate) makes it say "not sure" for the data that reaches it, and CUE decides.
//
// It only ever accepts: accepts(n) true means #Fields accepts n; false means that CUE must
// check n, and says why in its own words. TestFastFieldsAcceptOnlyWhatFieldsAccepts and
// FuzzFastFields hold it to that on every rule case, example and thousands of mutations.
var FastFields = sync.OnceValue(func() accepter {
	src, err := schema.Lean()
	if err != nil {
		panic(fmt.Sprintf("gen: the lean schema: %v", err))
	}
	f, err := parser.ParseFile("lean.cue", src)
	if err != nil {
		panic(fmt.Sprintf("gen: the lean schema: %v", err))
	}
	c := &fieldCompiler{defs: map[string]ast.Expr{}, compiled: map[string]*lazyAccepter{}}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if name, ok := labelName(fd.Label); ok {
				c.defs[name] = fd.Value
			}
		}
	}
	return c.def("#Fields")
})

// accepter is one compiled constraint: accepts reports whether the constraint certainly
// accepts n.
type accepter interface {
	accepts(n *node.Node) bool
}

type acceptFunc func(n *node.Node) bool

func (f acceptFunc) accepts(n *node.Node) bool { return f(n) }

// notSure is what the compiler makes of what it cannot read: it accepts nothing, so CUE
// decides.
var notSure acceptFunc = func(*node.Node) bool { return false }

type fieldCompiler struct {
	defs     map[string]ast.Expr
	compiled map[string]*lazyAccepter
}

// lazyAccepter lets definitions refer to each other in any order.
type lazyAccepter struct{ a accepter }

func (l *lazyAccepter) accepts(n *node.Node) bool { return l.a.accepts(n) }

func (c *fieldCompiler) def(name string) accepter {
	if l, ok := c.compiled[name]; ok {
		return l
	}
	l := &lazyAccepter{a: notSure}
	c.compiled[name] = l
	if x, ok := c.defs[name]; ok {
		l.a = c.expr(x)
	}
	return l
}

func labelName(l ast.Label) (string, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		return l.Name, true
	case *ast.BasicLit:
		if l.Kind == token.STRING {
			s, err := literal.Unquote(l.Value)
			return s, err == nil
		}
	}
	return "", false
}

func isIntNode(n *node.Node) bool {
	_, ok := n.Int()
	return ok
}

// expr compiles a constraint.
func (c *fieldCompiler) expr(x ast.Expr) accepter {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return c.expr(x.X)
	case *ast.Ident:
		switch x.Name {
		case "_":
			return acceptFunc(func(*node.Node) bool { return true })
		case "int":
			return acceptFunc(isIntNode)
		case "number":
			return acceptFunc(func(n *node.Node) bool { return n.Kind == node.Number })
		case "string":
			return acceptFunc(func(n *node.Node) bool { return n.Kind == node.String })
		case "bool":
			return acceptFunc(func(n *node.Node) bool { return n.Kind == node.Bool })
		}
		if _, ok := c.defs[x.Name]; ok && x.Name[0] == '#' {
			return c.def(x.Name)
		}
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING:
			if s, err := literal.Unquote(x.Value); err == nil {
				return acceptFunc(func(n *node.Node) bool { return n.Kind == node.String && n.Text == s })
			}
		case token.INT:
			if v, err := strconv.ParseInt(x.Value, 10, 64); err == nil {
				return acceptFunc(func(n *node.Node) bool { i, ok := n.Int(); return ok && i == v })
			}
		case token.TRUE, token.FALSE:
			v := x.Kind == token.TRUE
			return acceptFunc(func(n *node.Node) bool { return n.Kind == node.Bool && n.Bool == v })
		case token.NULL:
			return acceptFunc(func(n *node.Node) bool { return n.Kind == node.Null })
		}
	case *ast.UnaryExpr:
		return c.unary(x)
	case *ast.BinaryExpr:
		a, b := c.expr(x.X), c.expr(x.Y)
		switch x.Op {
		case token.AND:
			return acceptFunc(func(n *node.Node) bool { return a.accepts(n) && b.accepts(n) })
		case token.OR:
			return acceptFunc(func(n *node.Node) bool { return a.accepts(n) || b.accepts(n) })
		}
	case *ast.CallExpr:
		return c.call(x)
	case *ast.ListLit:
		return c.list(x)
	case *ast.StructLit:
		return c.structLit(x)
	}
	return notSure
}

func (c *fieldCompiler) unary(x *ast.UnaryExpr) accepter {
	switch x.Op {
	case token.MAT, token.NMAT:
		lit, ok := x.X.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return notSure
		}
		s, err := literal.Unquote(lit.Value)
		if err != nil {
			return notSure
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return notSure
		}
		want := x.Op == token.MAT
		return acceptFunc(func(n *node.Node) bool { return n.Kind == node.String && re.MatchString(n.Text) == want })
	case token.GEQ, token.LEQ, token.GTR, token.LSS:
		bound, ok := numberLiteral(x.X)
		if !ok {
			return notSure
		}
		op := x.Op
		return acceptFunc(func(n *node.Node) bool {
			// Whole numbers only: every bound of the schema is on an int, and a
			// number's text may have any exponent, which big.Rat would spell out.
			i, ok := n.Int()
			if !ok {
				return false
			}
			switch cmp := new(big.Rat).SetInt64(i).Cmp(bound); op {
			case token.GEQ:
				return cmp >= 0
			case token.LEQ:
				return cmp <= 0
			case token.GTR:
				return cmp > 0
			default:
				return cmp < 0
			}
		})
	}
	return notSure
}

// numberLiteral is the value of a number literal, possibly negated.
func numberLiteral(x ast.Expr) (*big.Rat, bool) {
	switch x := x.(type) {
	case *ast.BasicLit:
		if x.Kind == token.INT || x.Kind == token.FLOAT {
			return new(big.Rat).SetString(x.Value)
		}
	case *ast.UnaryExpr:
		if v, ok := numberLiteral(x.X); ok && x.Op == token.SUB {
			return v.Neg(v), true
		}
	}
	return nil, false
}

func (c *fieldCompiler) call(x *ast.CallExpr) accepter {
	if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "error" {
		return notSure // an error() standing alone: whatever reaches it is rejected
	}
	sel, ok := x.Fun.(*ast.SelectorExpr)
	if !ok || len(x.Args) != 1 {
		return notSure
	}
	pkg, ok := sel.X.(*ast.Ident)
	name, ok2 := labelName(sel.Sel)
	if !ok || !ok2 || pkg.Name != "strings" {
		return notSure
	}
	lit, ok := x.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.INT {
		return notSure
	}
	limit, err := strconv.Atoi(lit.Value)
	if err != nil {
		return notSure
	}
	switch name {
	case "MinRunes":
		return acceptFunc(func(n *node.Node) bool { return n.Kind == node.String && utf8.RuneCountInString(n.Text) >= limit })
	case "MaxRunes":
		return acceptFunc(func(n *node.Node) bool { return n.Kind == node.String && utf8.RuneCountInString(n.Text) <= limit })
	}
	return notSure
}

func (c *fieldCompiler) list(x *ast.ListLit) accepter {
	var prefix []accepter
	var rest accepter // nil: no more elements
	for _, e := range x.Elts {
		if el, ok := e.(*ast.Ellipsis); ok {
			rest = acceptFunc(func(*node.Node) bool { return true })
			if el.Type != nil {
				rest = c.expr(el.Type)
			}
			break
		}
		prefix = append(prefix, c.expr(e))
	}
	return acceptFunc(func(n *node.Node) bool {
		if n.Kind != node.List || len(n.Elems) < len(prefix) || rest == nil && len(n.Elems) != len(prefix) {
			return false
		}
		for i, e := range n.Elems {
			a := rest
			if i < len(prefix) {
				a = prefix[i]
			}
			if !a.accepts(e) {
				return false
			}
		}
		return true
	})
}

// structAccepter is a closed struct of the schema: its fields, its pattern constraints,
// and its conditional fields (if comprehensions), whose conditions it evaluates on the
// data. As in CUE, the struct literals that one definition gives a field are closed
// together: the field allows what any of them declares.
type structAccepter struct {
	fields map[string]*fieldRule
	// needed are the fields with ! and those without a marker (CUE adds them), which the
	// data must have; hidden is set when the struct declares a hidden field.
	needed   []string
	hidden   bool
	patterns []pattern
	ifs      []conditional
	opaque   bool // the struct holds what this compiler cannot read
}

// fieldRule is what a struct says of one field: its struct literals, merged, and its
// other constraints.
type fieldRule struct {
	lits   []*ast.StructLit
	merged accepter // the literals closed together; nil without any
	others []accepter
}

type pattern struct{ label, value accepter }

// conditional is `if cond {...}`: its conditions (all must hold) and its body. merged
// holds, for each field to which both the body and its struct give struct literals, all
// of them closed together.
type conditional struct {
	conds  []ast.Expr
	body   *structAccepter
	merged map[string]accepter
}

func (c *fieldCompiler) structLit(x *ast.StructLit) *structAccepter {
	return c.structOf([]*ast.StructLit{x})
}

// structOf compiles struct literals closed together.
func (c *fieldCompiler) structOf(lits []*ast.StructLit) *structAccepter {
	s := &structAccepter{fields: map[string]*fieldRule{}}
	for _, lit := range lits {
		c.addDecls(s, lit.Elts)
	}
	for _, r := range s.fields {
		if len(r.lits) > 0 {
			r.merged = c.structOf(r.lits)
		}
	}
	for i, cond := range s.ifs {
		for name, r := range cond.body.fields {
			if base := s.fields[name]; base != nil && len(base.lits) > 0 && len(r.lits) > 0 {
				if s.ifs[i].merged == nil {
					s.ifs[i].merged = map[string]accepter{}
				}
				s.ifs[i].merged[name] = c.structOf(append(append([]*ast.StructLit(nil), base.lits...), r.lits...))
			}
		}
	}
	return s
}

func (c *fieldCompiler) addDecls(s *structAccepter, decls []ast.Decl) {
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			if list, ok := d.Label.(*ast.ListLit); ok && len(list.Elts) == 1 {
				s.patterns = append(s.patterns, pattern{c.expr(list.Elts[0]), c.expr(d.Value)})
				continue
			}
			name, ok := labelName(d.Label)
			if !ok {
				s.opaque = true
				continue
			}
			r := s.fields[name]
			if r == nil {
				r = &fieldRule{}
				s.fields[name] = r
			}
			if lit, ok := d.Value.(*ast.StructLit); ok {
				r.lits = append(r.lits, lit)
			} else {
				r.others = append(r.others, c.expr(d.Value))
			}
			if d.Constraint == token.NOT || d.Constraint == token.ILLEGAL {
				s.needed = append(s.needed, name)
			}
			s.hidden = s.hidden || strings.HasPrefix(name, "_")

		case *ast.Comprehension:
			cond := conditional{}
			for _, cl := range d.Clauses {
				ic, ok := cl.(*ast.IfClause)
				if !ok {
					s.opaque = true
					break
				}
				cond.conds = append(cond.conds, ic.Condition)
			}
			body, ok := d.Value.(*ast.StructLit)
			if !ok {
				s.opaque = true
				continue
			}
			cond.body = c.structLit(body)
			s.ifs = append(s.ifs, cond)
		case *ast.CommentGroup, *ast.Attribute:
		default:
			s.opaque = true
		}
	}
}

func (s *structAccepter) accepts(n *node.Node) bool {
	if s.opaque || n.Kind != node.Struct {
		return false
	}
	// The conditional fields that apply to this data.
	var active []*conditional
	for i := range s.ifs {
		cond := &s.ifs[i]
		holds, ok := conditionHolds(cond.conds, n, s)
		if !ok {
			return false
		}
		if holds {
			if cond.body.opaque || len(cond.body.ifs) > 0 || len(cond.body.patterns) > 0 {
				return false
			}
			active = append(active, cond)
		}
	}
	for _, f := range n.Fields {
		var literals accepter
		var others []accepter
		declared := false
		if r := s.fields[f.Name]; r != nil {
			literals, others, declared = r.merged, r.others, true
		}
		joined := false
		for _, a := range active {
			r := a.body.fields[f.Name]
			if r == nil {
				continue
			}
			declared = true
			others = append(others[:len(others):len(others)], r.others...)
			switch m := a.merged[f.Name]; {
			case m != nil && joined:
				return false // two bodies join one field: not read here
			case m != nil:
				literals, joined = m, true
			case r.merged != nil && literals != nil:
				return false
			case r.merged != nil:
				literals = r.merged
			}
		}
		for _, p := range s.patterns {
			if p.label.accepts(&node.Node{Kind: node.String, Text: f.Name}) {
				others = append(others[:len(others):len(others)], p.value)
				declared = true
			}
		}
		if !declared {
			return false // not allowed: CUE says so
		}
		if literals != nil && !literals.accepts(f.Value) {
			return false
		}
		for _, a := range others {
			if !a.accepts(f.Value) {
				return false
			}
		}
	}
	if !s.present(n) {
		return false
	}
	for _, a := range active {
		if !a.body.present(n) {
			return false
		}
	}
	return true
}

// present reports whether n has every field the struct requires (with !, or without a
// marker: CUE adds those), and that the struct reaches no hidden check (_at_NAME, where
// only an error() is ever written).
func (s *structAccepter) present(n *node.Node) bool {
	if s.hidden {
		return false
	}
	for _, name := range s.needed {
		if n.Get(name) == nil {
			return false
		}
	}
	return true
}

// condValue is what a condition's operand evaluates to: a data value, an int, a string,
// a bool, or nothing (CUE's _|_ for a field the data does not have).
type condValue struct {
	node  *node.Node
	i     *int64
	s     *string
	b     *bool
	empty bool
}

// conditionHolds evaluates the conditions of an if comprehension on the struct data n.
// ok is false where it cannot say what CUE would make of them.
func conditionHolds(conds []ast.Expr, n *node.Node, s *structAccepter) (holds, ok bool) {
	for _, cond := range conds {
		v, ok := evalCondition(cond, &condScope{n, s})
		if !ok || v.b == nil {
			return false, false
		}
		if !*v.b {
			return false, true
		}
	}
	return true, true
}

func boolValue(b bool) condValue { return condValue{b: &b} }

// condScope is where a condition's names are looked up: the data of the struct, whose
// declared fields (and only those) a condition may name.
type condScope struct {
	data   *node.Node
	schema *structAccepter
}

func evalCondition(x ast.Expr, scope *condScope) (condValue, bool) {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return evalCondition(x.X, scope)
	case *ast.Ident:
		if _, declared := scope.schema.fields[x.Name]; !declared {
			return condValue{}, false // a let, a definition, an outer field: not read here
		}
		if f := scope.data.Get(x.Name); f != nil {
			return condValue{node: f}, true
		}
		return condValue{empty: true}, true
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING:
			s, err := literal.Unquote(x.Value)
			return condValue{s: &s}, err == nil
		case token.INT:
			i, err := strconv.ParseInt(x.Value, 10, 64)
			return condValue{i: &i}, err == nil
		}
	case *ast.BottomLit:
		return condValue{empty: true}, true
	case *ast.IndexExpr:
		base, ok := evalCondition(x.X, scope)
		key, ok2 := evalCondition(x.Index, scope)
		if !ok || !ok2 || key.s == nil || base.node == nil || base.node.Kind != node.Struct {
			return condValue{}, false
		}
		if f := base.node.Get(*key.s); f != nil {
			return condValue{node: f}, true
		}
		return condValue{empty: true}, true
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "len" && len(x.Args) == 1 {
			v, ok := evalCondition(x.Args[0], scope)
			if !ok || v.node == nil || v.node.Kind != node.List {
				return condValue{}, false
			}
			l := int64(len(v.node.Elems))
			return condValue{i: &l}, true
		}
	case *ast.BinaryExpr:
		return evalBinary(x, scope)
	}
	return condValue{}, false
}

func evalBinary(x *ast.BinaryExpr, scope *condScope) (condValue, bool) {
	if x.Op == token.AND { // (v & int): v when it is an int, else _|_
		id, isIdent := x.Y.(*ast.Ident)
		v, ok := evalCondition(x.X, scope)
		if !ok || !isIdent || id.Name != "int" {
			return condValue{}, false
		}
		if v.node != nil && isIntNode(v.node) {
			return v, true
		}
		return condValue{empty: true}, true
	}
	a, ok := evalCondition(x.X, scope)
	b, ok2 := evalCondition(x.Y, scope)
	if !ok || !ok2 {
		return condValue{}, false
	}
	if x.Op == token.LAND {
		if a.b == nil || b.b == nil {
			return condValue{}, false
		}
		return boolValue(*a.b && *b.b), true
	}
	// Comparison with _|_ tests whether a value exists.
	if _, isBottom := x.Y.(*ast.BottomLit); isBottom && (x.Op == token.NEQ || x.Op == token.EQL) {
		return boolValue(a.empty == (x.Op == token.EQL)), true
	}
	if a.empty || b.empty {
		return condValue{}, false // CUE's result is an error here, not false
	}
	if ai, bi, ok := bothInts(a, b); ok {
		switch x.Op {
		case token.GTR:
			return boolValue(ai > bi), true
		case token.LSS:
			return boolValue(ai < bi), true
		case token.GEQ:
			return boolValue(ai >= bi), true
		case token.LEQ:
			return boolValue(ai <= bi), true
		case token.EQL:
			return boolValue(ai == bi), true
		case token.NEQ:
			return boolValue(ai != bi), true
		}
	}
	if as, bs, ok := bothStrings(a, b); ok {
		switch x.Op {
		case token.EQL:
			return boolValue(as == bs), true
		case token.NEQ:
			return boolValue(as != bs), true
		}
	}
	return condValue{}, false
}

func (v condValue) int() (int64, bool) {
	if v.i != nil {
		return *v.i, true
	}
	if v.node != nil {
		return v.node.Int()
	}
	return 0, false
}

func (v condValue) str() (string, bool) {
	if v.s != nil {
		return *v.s, true
	}
	if v.node != nil && v.node.Kind == node.String {
		return v.node.Text, true
	}
	return "", false
}

func bothInts(a, b condValue) (int64, int64, bool) {
	ai, ok := a.int()
	bi, ok2 := b.int()
	return ai, bi, ok && ok2
}

func bothStrings(a, b condValue) (string, string, bool) {
	as, ok := a.str()
	bs, ok2 := b.str()
	return as, bs, ok && ok2
}
