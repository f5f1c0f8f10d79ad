package gen

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// Kind is the kind of a [Node].
type Kind uint8

// The kinds of values a spec can hold.
const (
	Null Kind = iota
	Bool
	Number
	String
	List
	Struct
)

func (k Kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "a list", "a struct"}[k]
}

// Node is a data value as written in a spec, with the position it was written at. Every
// front end (CUE, JSON, HCL) produces Nodes, and everything after it (layering, lowering,
// validation, rendering) works on them, so that each value keeps pointing at the user's
// own file however it was combined.
type Node struct {
	Kind Kind
	Pos  token.Pos
	// Bool is the value of a Bool node.
	Bool bool
	// Text is the value of a String node, or the decimal text of a Number node.
	Text string
	// Elems are the elements of a List node.
	Elems []*Node
	// Fields are the fields of a Struct node, in the order they were written.
	Fields []*Field
	// Sensitive is set for a value derived from an HCL variable declared sensitive: it
	// goes into the output as it is, and messages show it as (sensitive value).
	Sensitive bool
}

// sensitiveText is what messages show for a sensitive value.
const sensitiveText = "(sensitive value)"

// Field is one field of a Struct [Node].
type Field struct {
	Name  string
	Value *Node
}

// Get returns the value of the field name, or nil.
func (n *Node) Get(name string) *Node {
	if n == nil || n.Kind != Struct {
		return nil
	}
	for _, f := range n.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}

// Set sets the field name, adding it at the end when it is new.
func (n *Node) Set(name string, v *Node) {
	for _, f := range n.Fields {
		if f.Name == name {
			f.Value = v
			return
		}
	}
	n.Fields = append(n.Fields, &Field{Name: name, Value: v})
}

// Delete removes the field name.
func (n *Node) Delete(name string) {
	for i, f := range n.Fields {
		if f.Name == name {
			n.Fields = append(n.Fields[:i:i], n.Fields[i+1:]...)
			return
		}
	}
}

// SortedFields returns the fields ordered by name, for the spec forms whose keys become
// list elements: their order is the byte order of the keys, whatever order the layers
// wrote them in.
func (n *Node) SortedFields() []*Field {
	fs := append([]*Field(nil), n.Fields...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	return fs
}

// Int returns the value of a whole Number node.
func (n *Node) Int() (int64, bool) {
	if n == nil || n.Kind != Number {
		return 0, false
	}
	i, err := strconv.ParseInt(n.Text, 10, 64)
	return i, err == nil
}

// Str returns the value of a String node.
func (n *Node) Str() (string, bool) {
	if n == nil || n.Kind != String {
		return "", false
	}
	return n.Text, true
}

// Clone returns a deep copy of n.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := *n
	if n.Elems != nil {
		c.Elems = make([]*Node, len(n.Elems))
		for i, e := range n.Elems {
			c.Elems[i] = e.Clone()
		}
	}
	if n.Fields != nil {
		c.Fields = make([]*Field, len(n.Fields))
		for i, f := range n.Fields {
			c.Fields[i] = &Field{Name: f.Name, Value: f.Value.Clone()}
		}
	}
	return &c
}

// markSensitive sets Sensitive on the nodes of n whose position is in at.
func (n *Node) markSensitive(at map[token.Pos]bool) {
	if n == nil || len(at) == 0 {
		return
	}
	n.Sensitive = n.Sensitive || at[n.Pos]
	for _, e := range n.Elems {
		e.markSensitive(at)
	}
	for _, f := range n.Fields {
		f.Value.markSensitive(at)
	}
}

// hasSensitive reports whether any value of n is sensitive.
func (n *Node) hasSensitive() bool {
	if n == nil {
		return false
	}
	if n.Sensitive {
		return true
	}
	for _, e := range n.Elems {
		if e.hasSensitive() {
			return true
		}
	}
	for _, f := range n.Fields {
		if f.Value.hasSensitive() {
			return true
		}
	}
	return false
}

// sensitivePaths returns the paths of the sensitive scalars of n.
func (n *Node) sensitivePaths(path []any, out [][]any) [][]any {
	switch {
	case n.Sensitive && n.Kind != Struct && n.Kind != List:
		return append(out, slices.Clone(path))
	case n.Kind == List:
		for i, e := range n.Elems {
			out = e.sensitivePaths(append(path, i), out)
		}
	case n.Kind == Struct:
		for _, f := range n.Fields {
			out = f.Value.sensitivePaths(append(path, f.Name), out)
		}
	}
	return out
}

// NewString returns a String node.
func NewString(s string, pos token.Pos) *Node { return &Node{Kind: String, Text: s, Pos: pos} }

// NewStruct returns a Struct node with the given fields.
func NewStruct(pos token.Pos, fields ...*Field) *Node {
	return &Node{Kind: Struct, Pos: pos, Fields: fields}
}

// Lookup returns the node at path, whose elements are field names (string) and list
// indexes (int), and the deepest node that exists on the way when it is missing.
func (n *Node) Lookup(path []any) (found *Node, deepest *Node) {
	cur := n
	for _, sel := range path {
		var next *Node
		switch s := sel.(type) {
		case string:
			next = cur.Get(s)
		case int:
			if cur.Kind == List && s >= 0 && s < len(cur.Elems) {
				next = cur.Elems[s]
			}
		}
		if next == nil {
			return nil, cur
		}
		cur = next
	}
	return cur, cur
}

// Literal returns the node as it would be written in CUE or JSON, for messages.
func (n *Node) Literal() string {
	if n.Sensitive {
		return sensitiveText
	}
	switch n.Kind {
	case Null:
		return "null"
	case Bool:
		return strconv.FormatBool(n.Bool)
	case Number:
		return n.Text
	case String:
		return strconv.Quote(n.Text)
	case List:
		return "[...]"
	default:
		return "{...}"
	}
}

// toAST turns n into a CUE expression whose every value carries n's position, so that
// CUE's errors point into the user's file.
func (n *Node) toAST() ast.Expr {
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
			l.Elts = append(l.Elts, e.toAST())
		}
		x = l
	case Struct:
		s := &ast.StructLit{}
		for _, f := range n.Fields {
			fd := &ast.Field{Label: ast.NewString(f.Name), Value: f.Value.toAST()}
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
