package lang

import (
	"strings"
	"sync"

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
	steps := keyedSteps()[apath]
	out := n.Replace(func(f *node.Field) *node.Node {
		name := f.Name
		if apath == DaemonLevel && name == FieldContainers {
			name = "containerDefinitions" // the concise name of the same containers
		}
		switch steps[name] {
		case stepCollection:
			return mapElems(f.Value, JoinAbstract(apath, name)+".*", visit)
		case stepStruct:
			return mapKeyed(f.Value, JoinAbstract(apath, name), visit)
		}
		return f.Value
	})
	if forms, ok := KeyedForms[apath]; ok {
		out = visit(out, forms)
	}
	return out
}

// mapElems walks the elements of a list, or the values of a struct keyed by name, at apath.
func mapElems(n *node.Node, apath string, visit func(*node.Node, map[string]KeyedForm) *node.Node) *node.Node {
	switch n.Kind {
	case node.List:
		return n.ReplaceElems(func(e *node.Node) *node.Node { return mapKeyed(e, apath, visit) })
	case node.Struct:
		return n.Replace(func(f *node.Field) *node.Node { return mapKeyed(f.Value, apath, visit) })
	}
	return n
}

// step is how the walk goes on from a struct into one of its fields.
type step int

const (
	stepNone       step = iota // no keyed form lies below the field
	stepStruct                 // the field is a struct that holds keyed forms, or leads to one
	stepCollection             // the field holds structs that do: a list, or a struct keyed by name
)

// keyedSteps maps each abstract path that leads to keyed forms, and each of its fields, to
// how the walk goes on: KeyedForms' paths read once, so that the walk builds no path.
var keyedSteps = sync.OnceValue(func() map[string]map[string]step {
	steps := map[string]map[string]step{}
	for p := range KeyedForms {
		parts := strings.Split(p, ".")
		if p == DaemonLevel {
			parts = nil
		}
		parent := DaemonLevel
		for i := 0; i < len(parts); i++ {
			if steps[parent] == nil {
				steps[parent] = map[string]step{}
			}
			if i+1 < len(parts) && parts[i+1] == "*" {
				steps[parent][parts[i]] = stepCollection
				parent = JoinAbstract(JoinAbstract(parent, parts[i]), "*")
				i++
				continue
			}
			if steps[parent][parts[i]] == stepNone {
				steps[parent][parts[i]] = stepStruct
			}
			parent = JoinAbstract(parent, parts[i])
		}
	}
	return steps
})

// JoinAbstract appends a field name to an abstract path (DaemonLevel, "", is the daemon;
// an element of a list is "*"), the form of the schema index's keys and of KeyedForms.
func JoinAbstract(apath, name string) string {
	if apath == "" {
		return name
	}
	return apath + "." + name
}
