package lang

import (
	"strings"

	"github.com/daemongen/daemongen/internal/node"
)

// MapKeyed is the one walk over the structs of a daemon that hold keyed forms, as
// [KeyedForms] places them: the daemon, each of its containers (under containers, a struct
// keyed by name as specs write it, or containerDefinitions, a list as the API does), and
// each container's logConfiguration. It calls visit with each such struct and its forms,
// deepest first, and puts what visit returns in the struct's place. daemon is left as it
// is: what changes is copied. Lowering and import's concise writer both walk this way, in
// opposite directions; a new level of keyed forms is one entry of KeyedForms.
func MapKeyed(daemon *node.Node, visit func(s *node.Node, forms map[string]KeyedForm) *node.Node) *node.Node {
	return mapKeyed(daemon, DaemonLevel, visit)
}

func mapKeyed(n *node.Node, apath string, visit func(*node.Node, map[string]KeyedForm) *node.Node) *node.Node {
	if n == nil || n.Kind != node.Struct {
		return n
	}
	out := n
	for _, f := range n.Fields {
		name := f.Name
		if apath == DaemonLevel && name == FieldContainers {
			name = "containerDefinitions" // the concise name of the same containers
		}
		child := JoinAbstract(apath, name)
		var v *node.Node
		switch {
		case leadsToKeyed(child + ".*"): // a collection: a list, or a struct keyed by name
			v = mapElems(f.Value, child+".*", visit)
		case leadsToKeyed(child):
			v = mapKeyed(f.Value, child, visit)
		default:
			continue
		}
		if v != f.Value {
			out = out.With(f.Name, v)
		}
	}
	if forms, ok := KeyedForms[apath]; ok {
		out = visit(out, forms)
	}
	return out
}

// mapElems walks the elements of a list, or the values of a struct keyed by name, at apath.
func mapElems(n *node.Node, apath string, visit func(*node.Node, map[string]KeyedForm) *node.Node) *node.Node {
	switch n.Kind {
	case node.List:
		var elems []*node.Node // a copy, made at the first element that changes
		for i, e := range n.Elems {
			v := mapKeyed(e, apath, visit)
			if v != e && elems == nil {
				elems = append([]*node.Node(nil), n.Elems...)
			}
			if elems != nil {
				elems[i] = v
			}
		}
		if elems != nil {
			c := *n
			c.Elems = elems
			return &c
		}
	case node.Struct:
		out := n
		for _, f := range n.Fields {
			if v := mapKeyed(f.Value, apath, visit); v != f.Value {
				out = out.With(f.Name, v)
			}
		}
		return out
	}
	return n
}

// leadsToKeyed reports whether the struct at apath, or one below it, holds keyed forms.
func leadsToKeyed(apath string) bool {
	for p := range KeyedForms {
		if p == apath || strings.HasPrefix(p, apath+".") {
			return true
		}
	}
	return false
}

// JoinAbstract appends a field name to an abstract path (DaemonLevel, "", is the daemon;
// an element of a list is "*"), the form of the schema index's keys and of KeyedForms.
func JoinAbstract(apath, name string) string {
	if apath == "" {
		return name
	}
	return apath + "." + name
}
