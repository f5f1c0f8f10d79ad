package gen

import (
	"bytes"
	"fmt"
	"strings"
)

// TraceEntry is what one layer of a daemon writes at a path.
type TraceEntry struct {
	Layer string
	Value *Node
}

// Trace shows where the value at path (a path of the spec's concise form, such as
// containers.agent.memory or logConfiguration.options.awslogs-group) of daemon family in
// environment env comes from: the final value, and each layer that writes it, lowest first.
// A layer's every-container defaults count for each container.
func Trace(cfg Config, family, env, path string) (final *Node, entries []TraceEntry, err error) {
	units, diags, err := plan(cfg)
	if err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("the specs have errors; run daemongen vet")
	}
	var found *unit
	var families []string
	for _, u := range units {
		if u.raw || (env != "" && u.env != env) {
			continue
		}
		name := u.key
		if f, ok := u.root.Get("daemons").Get(u.key).Get("family").Str(); ok {
			name = f
		}
		families = append(families, name)
		if name == family && found == nil {
			found = u
		}
	}
	if found == nil {
		msg := fmt.Sprintf("no daemon has the family %q", family)
		if env != "" {
			msg += fmt.Sprintf(" in environment %q", env)
		}
		if s := suggest(family, families); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return nil, nil, &UsageError{Msg: msg}
	}
	layers := Layers(found.root, found.key, found.env)
	sel := splitPath(path)
	for _, l := range layers {
		if v, _ := l.Node.Lookup(sel); v != nil && len(sel) > 0 {
			entries = append(entries, TraceEntry{Layer: l.Name, Value: v})
		}
		if len(sel) > 2 && sel[0] == "containers" {
			if v, _ := l.Node.Lookup(append([]any{everyContainer}, sel[2:]...)); v != nil {
				entries = append(entries, TraceEntry{Layer: l.Name + " (every container)", Value: v})
			}
		}
	}
	final, _ = Layer(layers).Lookup(sel)
	return final, entries, nil
}

func splitPath(path string) []any {
	var sel []any
	for _, p := range strings.Split(path, ".") {
		if p != "" {
			sel = append(sel, p)
		}
	}
	return sel
}

// FormatPos writes a position as file:line:col relative to dir.
func FormatPos(n *Node, dir string) string {
	r := rangeAt(n.Pos)
	return fmt.Sprintf("%s:%d:%d", RelativeName(dir, r.Filename), r.Start.Line, r.Start.Column)
}

// Compact writes n as one line of JSON, struct fields sorted.
func (n *Node) Compact() string {
	var b bytes.Buffer
	n.compact(&b)
	return b.String()
}

func (n *Node) compact(b *bytes.Buffer) {
	switch n.Kind {
	case String:
		writeString(b, n.Text)
	case List:
		b.WriteByte('[')
		for i, e := range n.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.compact(b)
		}
		b.WriteByte(']')
	case Struct:
		b.WriteByte('{')
		for i, f := range n.SortedFields() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, f.Name)
			b.WriteString(": ")
			f.Value.compact(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString(n.Literal())
	}
}
