package encoding

import (
	"fmt"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/token"

	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// Expr turns n into a CUE expression whose every value carries n's position, so that
// CUE's errors point into the user's file.
func Expr(n *node.Node) ast.Expr { return expr(n, true) }

// expr turns n into a CUE expression: positioned, for the evaluator, with every value at
// n's position and every label a quoted string (a field name may be any text); otherwise,
// for a file a person reads, unpositioned, with labels identifiers where they can be.
func expr(n *node.Node, positioned bool) ast.Expr {
	var x ast.Expr
	switch n.Kind {
	case node.Null:
		x = ast.NewNull()
	case node.Bool:
		x = ast.NewBool(n.Bool)
	case node.Number:
		kind := token.INT
		if _, err := strconv.ParseInt(n.Text, 10, 64); err != nil {
			kind = token.FLOAT
		}
		x = &ast.BasicLit{Kind: kind, Value: n.Text}
	case node.String:
		x = ast.NewString(n.Text)
	case node.List:
		l := &ast.ListLit{}
		for _, e := range n.Elems {
			l.Elts = append(l.Elts, expr(e, positioned))
		}
		x = l
	case node.Struct:
		s := &ast.StructLit{}
		for _, f := range n.Fields {
			fd := &ast.Field{Label: lang.CUELabel(f.Name), Value: expr(f.Value, positioned)}
			if positioned {
				fd.Label = ast.NewString(f.Name)
				ast.SetPos(fd.Label, f.Value.Pos)
			}
			s.Elts = append(s.Elts, fd)
		}
		x = s
	default:
		panic(fmt.Sprintf("encoding: unknown node kind %d", n.Kind))
	}
	if !positioned {
		return x
	}
	// A struct or list literal is positioned by its opening brace: ast.SetPos would move
	// its first element instead.
	switch x := x.(type) {
	case *ast.StructLit:
		x.Lbrace = n.Pos
	case *ast.ListLit:
		x.Lbrack = n.Pos
	default:
		ast.SetPos(x, n.Pos)
	}
	return x
}

// WriteCUE writes a spec root as a CUE file.
func WriteCUE(root *node.Node) ([]byte, error) {
	f := &ast.File{Decls: []ast.Decl{&ast.Package{Name: ast.NewIdent(lang.SectionDaemons)}}}
	for _, fd := range root.Fields {
		f.Decls = append(f.Decls, &ast.Field{Label: lang.CUELabel(fd.Name), Value: expr(fd.Value, false)})
	}
	return format.Node(f, format.Simplify())
}
