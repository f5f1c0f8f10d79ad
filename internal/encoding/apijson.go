// Package encoding writes and reads the forms a Node takes outside the evaluator: the API's
// register-ready JSON (in the schema's key order), a positioned CUE expression for the
// evaluator, and the CUE and HCL spec files that import writes.
package encoding

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// Render writes a validated daemon task definition as register-ready JSON: two-space
// indentation, keys in the order the schema declares them (free-form maps such as log
// options sorted), and a final newline. The same Node always gives the same bytes.
func Render(api *node.Node) []byte {
	var b bytes.Buffer
	render(&b, api, nil, "")
	b.WriteByte('\n')
	return b.Bytes()
}

func render(b *bytes.Buffer, n *node.Node, path []any, indent string) {
	switch n.Kind {
	case node.Null:
		b.WriteString("null")
	case node.Bool, node.Number:
		b.WriteString(n.Literal())
	case node.String:
		node.WriteJSONString(b, n.Text)
	case node.List:
		if len(n.Elems) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range n.Elems {
			b.WriteString(indent + "  ")
			render(b, e, append(slices.Clip(path), i), indent+"  ")
			if i < len(n.Elems)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case node.Struct:
		fields := OrderedFields(n, path)
		if len(fields) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, f := range fields {
			b.WriteString(indent + "  ")
			node.WriteJSONString(b, f.Name)
			b.WriteString(": ")
			render(b, f.Value, append(slices.Clip(path), f.Name), indent+"  ")
			if i < len(fields)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	}
}

// OrderedFields returns a struct's fields in the schema's order, or sorted by name for
// a free-form map.
func OrderedFields(n *node.Node, path []any) []*node.Field {
	sn := schema.Index()[schema.AbstractPath(path)]
	if sn == nil || sn.IsMap {
		return n.SortedFields()
	}
	out := make([]*node.Field, 0, len(n.Fields))
	for _, name := range sn.Order {
		if f := n.Get(name); f != nil {
			out = append(out, &node.Field{Name: name, Value: f})
		}
	}
	// The shape check leaves only fields the schema knows; any other would follow sorted.
	if len(out) < len(n.Fields) {
		for _, f := range n.SortedFields() {
			if !slices.Contains(sn.Order, f.Name) {
				out = append(out, f)
			}
		}
	}
	return out
}

// RedactDiff returns an old and a new rendering of a daemon task definition with the
// values at paths (the Sensitive paths of an output) shown as (sensitive value), or, on the new
// side where the value changed, (sensitive value, changed): a diff of the two shows that
// a secret changed without showing it. A side that is not a JSON object is returned as it
// is.
func RedactDiff(old, new []byte, paths [][]any) (oldOut, newOut []byte) {
	if len(paths) == 0 {
		return old, new
	}
	o, n := DecodeObject(old), DecodeObject(new)
	for _, p := range paths {
		ov, _ := o.Lookup(p)
		nv, _ := n.Lookup(p)
		changed := ov == nil || nv == nil || ov.Kind != nv.Kind || ov.Literal() != nv.Literal()
		for _, v := range []*node.Node{ov, nv} {
			if v != nil && v.Kind != node.Struct && v.Kind != node.List {
				text := node.SensitiveText
				if changed && v == nv {
					text = "(sensitive value, changed)"
				}
				*v = node.Node{Kind: node.String, Text: text, Pos: v.Pos}
			}
		}
	}
	oldOut, newOut = old, new
	if o != nil {
		oldOut = Render(o)
	}
	if n != nil {
		newOut = Render(n)
	}
	return oldOut, newOut
}

// DecodeObject reads a JSON object into a Node, or returns nil.
func DecodeObject(data []byte) *node.Node {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return nil
	}
	return node.FromJSON(doc)
}
