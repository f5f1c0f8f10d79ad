// Package node holds the data values of daemongen: a Node is a value as written in a spec
// (CUE, HCL or JSON), with the position it was written at, from the front ends through
// layering, lowering, the checks and rendering. It knows nothing of specs or the schema.
package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

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

// SensitiveText is what messages show for a sensitive value.
const SensitiveText = "(sensitive value)"

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

// Replace returns the struct n with each field's value replaced by what replace returns
// for it: the field's own value leaves it, and nil drops the field. n itself is returned
// when nothing changes, and is never changed: a copy takes the new values, made once.
func (n *Node) Replace(replace func(f *Field) *Node) *Node {
	var fields []*Field // the copy, made at the first field that changes
	for i, f := range n.Fields {
		v := replace(f)
		if v != f.Value && fields == nil {
			fields = append(make([]*Field, 0, len(n.Fields)), n.Fields[:i]...)
		}
		switch {
		case fields == nil:
		case v == f.Value:
			fields = append(fields, f)
		case v != nil:
			fields = append(fields, &Field{Name: f.Name, Value: v})
		}
	}
	if fields == nil {
		return n
	}
	c := *n
	c.Fields = fields
	return &c
}

// ReplaceElems returns the list n with each element replaced by what replace returns for
// it (the element itself leaves it). n itself is returned when nothing changes, and is
// never changed: a copy takes the new elements, made once.
func (n *Node) ReplaceElems(replace func(e *Node) *Node) *Node {
	var elems []*Node // the copy, made at the first element that changes
	for i, e := range n.Elems {
		v := replace(e)
		if v != e && elems == nil {
			elems = slices.Clone(n.Elems)
		}
		if elems != nil {
			elems[i] = v
		}
	}
	if elems == nil {
		return n
	}
	c := *n
	c.Elems = elems
	return &c
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

// MarkSensitive sets Sensitive on the nodes of n whose position is in at.
func (n *Node) MarkSensitive(at map[token.Pos]bool) {
	if n == nil || len(at) == 0 {
		return
	}
	n.Sensitive = n.Sensitive || at[n.Pos]
	for _, e := range n.Elems {
		e.MarkSensitive(at)
	}
	for _, f := range n.Fields {
		f.Value.MarkSensitive(at)
	}
}

// HasSensitive reports whether any value of n is sensitive.
func (n *Node) HasSensitive() bool {
	if n == nil {
		return false
	}
	if n.Sensitive {
		return true
	}
	for _, e := range n.Elems {
		if e.HasSensitive() {
			return true
		}
	}
	for _, f := range n.Fields {
		if f.Value.HasSensitive() {
			return true
		}
	}
	return false
}

// SensitivePaths returns the paths of the sensitive scalars of n.
func (n *Node) SensitivePaths(path []any, out [][]any) [][]any {
	switch {
	case n.Sensitive && n.Kind != Struct && n.Kind != List:
		return append(out, slices.Clone(path))
	case n.Kind == List:
		for i, e := range n.Elems {
			out = e.SensitivePaths(append(path, i), out)
		}
	case n.Kind == Struct:
		for _, f := range n.Fields {
			out = f.Value.SensitivePaths(append(path, f.Name), out)
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
		return SensitiveText
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

// Canonical writes n's content, without positions, in one unambiguous form.
func (n *Node) Canonical(w io.Writer) {
	var b bytes.Buffer
	n.writeCanonical(&b)
	w.Write(b.Bytes())
}

func (n *Node) writeCanonical(b *bytes.Buffer) {
	b.WriteByte(byte('0' + n.Kind))
	switch n.Kind {
	case Bool:
		if n.Bool {
			b.WriteByte('t')
		} else {
			b.WriteByte('f')
		}
	case Number, String:
		WriteJSONString(b, n.Text)
	case List:
		b.WriteByte('[')
		for _, e := range n.Elems {
			e.writeCanonical(b)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case Struct:
		// Field order is part of the input (the API's order of keys does not matter for
		// the check, but keeping it costs nothing and never merges two different inputs).
		b.WriteByte('{')
		for _, f := range n.Fields {
			WriteJSONString(b, f.Name)
			b.WriteByte(':')
			f.Value.writeCanonical(b)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	}
}

// AsString returns a number or boolean as the string the API takes ("8125", "true"), at
// the same place and as sensitive as it was.
func (n *Node) AsString() *Node {
	text := n.Text
	if n.Kind == Bool {
		text = strconv.FormatBool(n.Bool)
	}
	return &Node{Kind: String, Text: text, Pos: n.Pos, Sensitive: n.Sensitive}
}

// Compact writes n as one line of JSON, struct fields sorted.
func (n *Node) Compact() string {
	var b bytes.Buffer
	n.compact(&b)
	return b.String()
}

func (n *Node) compact(b *bytes.Buffer) {
	switch {
	case n.Sensitive:
		b.WriteString(SensitiveText)
	case n.Kind == String:
		WriteJSONString(b, n.Text)
	case n.Kind == List:
		b.WriteByte('[')
		for i, e := range n.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.compact(b)
		}
		b.WriteByte(']')
	case n.Kind == Struct:
		b.WriteByte('{')
		for i, f := range n.SortedFields() {
			if i > 0 {
				b.WriteString(", ")
			}
			WriteJSONString(b, f.Name)
			b.WriteString(": ")
			f.Value.compact(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString(n.Literal())
	}
}

// ListElems returns the elements of a List node, or nil.
func (n *Node) ListElems() []*Node {
	if n == nil || n.Kind != List {
		return nil
	}
	return n.Elems
}

// FromJSON turns decoded JSON into a Node without positions.
func FromJSON(v any) *Node {
	switch x := v.(type) {
	case nil:
		return &Node{Kind: Null}
	case bool:
		return &Node{Kind: Bool, Bool: x}
	case json.Number:
		return &Node{Kind: Number, Text: x.String()}
	case float64:
		return &Node{Kind: Number, Text: strconv.FormatFloat(x, 'f', -1, 64)}
	case string:
		return NewString(x, token.NoPos)
	case []any:
		n := &Node{Kind: List, Elems: []*Node{}}
		for _, e := range x {
			n.Elems = append(n.Elems, FromJSON(e))
		}
		return n
	case map[string]any:
		n := NewStruct(token.NoPos)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			n.Fields = append(n.Fields, &Field{Name: k, Value: FromJSON(x[k])})
		}
		return n
	}
	panic(fmt.Sprintf("node: unexpected JSON value %T", v))
}

// Equal compares values, field order aside.
func Equal(a, b *Node) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Bool:
		return a.Bool == b.Bool
	case Number, String:
		return a.Text == b.Text
	case List:
		return slices.EqualFunc(a.Elems, b.Elems, Equal)
	case Struct:
		if len(a.Fields) != len(b.Fields) {
			return false
		}
		for _, f := range a.Fields {
			g := b.Get(f.Name)
			if g == nil || !Equal(f.Value, g) {
				return false
			}
		}
	}
	return true
}

// WriteJSONString writes s as a JSON string, without the HTML escaping of encoding/json:
// "<" and "&" stay as they are, as in the aws CLI's own output.
func WriteJSONString(b *bytes.Buffer, s string) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.WriteString(strings.TrimSuffix(sb.String(), "\n"))
}

// StructFields returns the fields of n if it is a struct, and nothing otherwise.
func StructFields(n *Node) []*Field {
	if n == nil || n.Kind != Struct {
		return nil
	}
	return n.Fields
}

// Names returns the names of the fields, in order.
func Names(fs []*Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// Elem returns the i-th element of the list n, or nil where it has none.
func Elem(n *Node, i int) *Node {
	if i >= 0 && i < len(n.Elems) {
		return n.Elems[i]
	}
	return nil
}
