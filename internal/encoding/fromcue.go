package encoding

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// nodeConverter converts one value; path is the path of the value being converted, grown
// and shrunk in place, and written out only for a message.
type nodeConverter struct {
	path  []string
	diags hcl.Diagnostics
}

func (c *nodeConverter) fail(pos token.Pos, msg string) {
	c.diags = append(c.diags, diag.New(hcl.DiagError, pos, strings.Join(c.path, "."), msg))
}

func (c *nodeConverter) convert(v cue.Value, depth int) *node.Node {
	if err := v.Err(); err != nil {
		c.diags = append(c.diags, CUEErrors(err)...)
		return nil
	}
	v, _ = v.Default()
	pos := v.Pos()
	kind := v.IncompleteKind()
	if (kind == cue.StructKind || kind == cue.ListKind) && depth >= node.MaxDepth {
		c.fail(pos, fmt.Sprintf("nested more than %d levels deep; daemon task definitions nest a few levels", node.MaxDepth))
		return nil
	}
	switch kind {
	case cue.StructKind:
		n := node.NewStruct(pos)
		it, err := v.Fields()
		if err != nil {
			c.diags = append(c.diags, CUEErrors(err)...)
			return nil
		}
		for fields := 0; it.Next(); fields++ {
			if fields == node.MaxListLength {
				c.fail(pos, fmt.Sprintf("a struct of more than %d fields; structs may have at most %d", node.MaxListLength, node.MaxListLength))
				return nil
			}
			name := it.Selector().Unquoted()
			c.path = append(c.path, name)
			if child := c.convert(it.Value(), depth+1); child != nil {
				n.Fields = append(n.Fields, &node.Field{Name: name, Value: child})
			}
			c.path = c.path[:len(c.path)-1]
		}
		return n
	case cue.ListKind:
		if l, err := v.Len().Int64(); err == nil && l > node.MaxListLength {
			c.fail(pos, fmt.Sprintf("a list of %d elements; lists may have at most %d", l, node.MaxListLength))
			return nil
		}
		n := &node.Node{Kind: node.List, Pos: pos, Elems: []*node.Node{}}
		it, err := v.List()
		if err != nil {
			c.diags = append(c.diags, CUEErrors(err)...)
			return nil
		}
		for i := 0; it.Next(); i++ {
			c.path = append(c.path, strconv.Itoa(i))
			if child := c.convert(it.Value(), depth+1); child != nil {
				n.Elems = append(n.Elems, child)
			}
			c.path = c.path[:len(c.path)-1]
		}
		return n
	}
	if !v.IsConcrete() {
		c.fail(pos, noValueMessage(v))
		return nil
	}
	switch v.Kind() {
	case cue.NullKind:
		return &node.Node{Kind: node.Null, Pos: pos}
	case cue.BoolKind:
		b, _ := v.Bool()
		return &node.Node{Kind: node.Bool, Pos: pos, Bool: b}
	case cue.IntKind, cue.FloatKind, cue.NumberKind:
		b, err := v.MarshalJSON()
		if err != nil {
			c.diags = append(c.diags, CUEErrors(err)...)
			return nil
		}
		if v.Kind() == cue.FloatKind && !bytes.ContainsAny(b, ".eE") {
			// A float whose exponent cancels its fraction (0.512e3) marshals as 512, and
			// would pass where the API wants a whole number; the SDK and the aws CLI
			// reject it. It stays a float, as 512.0 does.
			b = append(b, ".0"...)
		}
		return &node.Node{Kind: node.Number, Pos: pos, Text: string(b)}
	case cue.StringKind:
		s, _ := v.String()
		return node.NewString(s, pos)
	}
	c.fail(pos, fmt.Sprintf("%v is not a JSON value", v.Kind()))
	return nil
}

// noValueMessage says why v, which is not concrete, has no value. A field whose value is a
// reference to its own name, as in `tags: env: env`, refers to itself: a CUE reference names
// the nearest field of that name, and a user who meant the outer field is told how to reach it.
func noValueMessage(v cue.Value) string {
	if _, ref := v.ReferencePath(); len(ref.Selectors()) > 0 && ref.String() == v.Path().String() {
		name := ref.Selectors()[len(ref.Selectors())-1].String()
		alias := "_" + name // a hidden field: it is not part of the spec and clashes with no API field
		if strings.HasPrefix(name, "_") {
			alias = "_outer" + name
		}
		return fmt.Sprintf("has no value: %s refers to this field itself, as a reference names the nearest field of its name; "+
			"to use an outer %s, give it another name first (`%s: %s` at the top of the file) and refer to that",
			name, name, alias, name)
	}
	return fmt.Sprintf("has no value: it is only constrained to %v; give it a concrete value", v)
}

// FromCUE converts an evaluated CUE value into a Node tree. Values that are errors or not
// concrete are reported at their position and left out. It takes time linear in the size
// of the value, and refuses values nested deeper than MaxDepth, or with lists or structs
// longer than MaxListLength (a comprehension can make what the syntax check did not see).
func FromCUE(v cue.Value) (*node.Node, hcl.Diagnostics) {
	c := &nodeConverter{}
	n := c.convert(v, 0)
	return n, c.diags
}

// CUEErrors converts a CUE error of the user's own files: a syntax error, or two
// values that conflict. The first position is where it is reported; the others are named
// in the message, so that a conflict names both places.
func CUEErrors(err error) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, e := range errors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		// A wrapping error (import failed) says what failed; the wrapped one says why.
		if cause, ok := errors.Unwrap(e).(errors.Error); ok {
			f, a := cause.Msg()
			if why := fmt.Sprintf(f, a...); !strings.Contains(msg, why) {
				msg += ": " + why
			}
		}
		var positions []token.Pos
		for _, p := range errors.Positions(e) {
			if !strings.HasPrefix(p.Filename(), schema.DisplayDir+"/") {
				positions = append(positions, p)
			}
		}
		var at token.Pos
		if len(positions) > 0 {
			at = positions[0]
			var also []string
			for _, p := range positions[1:] {
				pp := p.Position()
				also = append(also, fmt.Sprintf("%s:%d:%d", pp.Filename, pp.Line, pp.Column))
			}
			if len(also) > 0 {
				msg += "; see also " + strings.Join(also, ", ")
			}
		}
		diags = append(diags, diag.New(hcl.DiagError, at, strings.Join(errors.Path(e), "."), msg))
	}
	return diags
}
