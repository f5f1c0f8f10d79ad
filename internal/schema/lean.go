package schema

import (
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/ast/astutil"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/token"
)

// Lean is the schema with every "| error(...)" alternative removed. An error() is
// bottom, and a disjunction with a bottom alternative accepts exactly what its other
// alternatives accept: the lean #Fields accepts and rejects the same data as #Fields, only
// without the friendly messages, which the evaluator computes with #Fields when the lean
// check fails. The alternatives are most of #Fields' cost on valid data.
var Lean = sync.OnceValues(func() ([]byte, error) {
	f, err := Merged()
	if err != nil {
		return nil, err
	}
	astutil.Apply(f, nil, func(c astutil.Cursor) bool {
		b, ok := c.Node().(*ast.BinaryExpr)
		if !ok || b.Op != token.OR {
			return true
		}
		switch {
		case isErrorCall(b.Y):
			c.Replace(b.X)
		case isErrorCall(b.X):
			c.Replace(b.Y)
		}
		return true
	})
	// As text, compiled anew: the merged file's references still point at the imports
	// of the files it was made from.
	return format.Node(f)
})

// isErrorCall reports whether x is error("...").
func isErrorCall(x ast.Expr) bool {
	call, ok := x.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	return ok && id.Name == "error"
}

// CompileLeanFields builds the lean #Fields in ctx.
func CompileLeanFields(ctx *cue.Context) cue.Value {
	src, err := Lean()
	if err != nil {
		panic(fmt.Sprintf("gen: the lean schema: %v", err))
	}
	v := ctx.CompileBytes(src, cue.Filename(DisplayDir+"/lean.cue"))
	if err := v.Err(); err != nil {
		panic("gen: the lean schema does not build: " + errors.Details(err, nil))
	}
	return v.LookupPath(cue.ParsePath("#Fields"))
}
