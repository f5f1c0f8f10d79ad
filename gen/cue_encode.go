package gen

import (
	"fmt"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// toAST turns n into a CUE expression whose every value carries n's position, so that
// CUE's errors point into the user's file.
func toAST(n *Node) ast.Expr {
	var x ast.Expr
	switch n.Kind {
	case Null:
		x = ast.NewNull()
	case Bool:
		x = ast.NewBool(n.Bool)
	case Number:
		kind := token.INT
		if _, err := strconv.ParseInt(n.Text, 10, 64); err != nil {
			kind = token.FLOAT
		}
		x = &ast.BasicLit{Kind: kind, Value: n.Text}
	case String:
		x = ast.NewString(n.Text)
	case List:
		l := &ast.ListLit{}
		for _, e := range n.Elems {
			l.Elts = append(l.Elts, toAST(e))
		}
		x = l
	case Struct:
		s := &ast.StructLit{}
		for _, f := range n.Fields {
			fd := &ast.Field{Label: ast.NewString(f.Name), Value: toAST(f.Value)}
			ast.SetPos(fd.Label, f.Value.Pos)
			s.Elts = append(s.Elts, fd)
		}
		x = s
	default:
		panic(fmt.Sprintf("gen: unknown node kind %d", n.Kind))
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
