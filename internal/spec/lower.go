package spec

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// Lower turns a daemon in the concise form into the API form: containers become
// containerDefinitions, and every keyed struct becomes a list ordered by key. The family
// defaults to the daemon's key. The plain API form passes through unchanged, so a spec
// may use either for any field.
func Lower(daemon *node.Node, key string) (*node.Node, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if c := daemon.Get(lang.FieldContainers); c != nil && daemon.Get("containerDefinitions") != nil {
		diags = append(diags, diag.New(hcl.DiagError, c.Pos, lang.FieldContainers,
			"set either containers (keyed by name) or containerDefinitions (a list), not both"))
		without := *daemon
		without.Fields = slices.DeleteFunc(slices.Clone(daemon.Fields), func(f *node.Field) bool { return f.Name == lang.FieldContainers })
		daemon = &without
	}
	// Every keyed form, at every level, becomes a list ordered by key.
	daemon = lang.MapKeyed(daemon, func(s *node.Node, forms map[string]lang.KeyedForm) *node.Node {
		return s.Replace(func(f *node.Field) *node.Node {
			form, keyed := forms[f.Name]
			if !keyed {
				return f.Value
			}
			v, ds := lowerKeyed(f.Value, f.Name, form)
			diags = append(diags, ds...)
			if f.Name == "environment" {
				v = stringifyValues(v)
			}
			return v
		})
	})
	api := node.NewStruct(daemon.Pos)
	for _, f := range daemon.Fields {
		if lang.SpecOnlyFieldNamed(f.Name).Name != "" {
			continue // the spec's own settings (specOnlyFields), read from the layers
		}
		switch f.Name {
		case "cpu", "memory":
			// Task cpu and memory are strings in the API; cpu: 256 is what people write,
			// and Terraform converts a number for a string attribute the same way.
			v := f.Value
			if v.Kind == node.Number {
				v = v.AsString()
			}
			api.Set(f.Name, v)
		case lang.FieldContainers:
			list, ds := lowerKeyed(f.Value, lang.FieldContainers, lang.KeyedForm{KeyField: "name"})
			diags = append(diags, ds...)
			api.Set("containerDefinitions", list)
		default:
			api.Set(f.Name, f.Value)
		}
	}
	if api.Get("family") == nil {
		api.Fields = append([]*node.Field{{Name: "family", Value: node.NewString(key, daemon.Pos)}}, api.Fields...)
	}
	return api, diags
}

// lowerKeyed turns a struct keyed by name into a list ordered by key. A list is the API
// form already and is returned as it is; so is any other value, for the schema to judge.
func lowerKeyed(n *node.Node, path string, form lang.KeyedForm) (*node.Node, hcl.Diagnostics) {
	if n.Kind != node.Struct {
		return n, nil
	}
	var diags hcl.Diagnostics
	list := &node.Node{Kind: node.List, Pos: n.Pos, Elems: []*node.Node{}}
	for _, f := range n.SortedFields() {
		key := node.NewString(f.Name, f.Value.Pos)
		var elem *node.Node
		switch {
		case f.Value.Kind == node.Struct:
			elem = node.NewStruct(f.Value.Pos, &node.Field{Name: form.KeyField, Value: key})
			for _, g := range f.Value.Fields {
				if g.Name == form.KeyField {
					if s, ok := g.Value.Str(); !ok || s != f.Name {
						diags = append(diags, diag.New(hcl.DiagError, g.Value.Pos, path+"."+f.Name+"."+g.Name,
							fmt.Sprintf("invalid value %s: differs from its key %q; leave %s out, the key sets it", g.Value.Literal(), f.Name, g.Name)))
					}
					continue
				}
				elem.Fields = append(elem.Fields, g)
			}
		case form.Short != nil:
			elem = node.NewStruct(f.Value.Pos, append([]*node.Field{{Name: form.KeyField, Value: key}}, form.Short(f.Value)...)...)
		default:
			diags = append(diags, diag.New(hcl.DiagError, f.Value.Pos, path+"."+f.Name,
				fmt.Sprintf("invalid value %s: must be a struct", f.Value.Literal())))
			continue
		}
		list.Elems = append(list.Elems, elem)
	}
	return list, diags
}

// stringifyValues returns a lowered environment with its numbers and booleans written as
// strings, list left as it is: the API takes only strings, and PORT: 8125 is what people
// write.
func stringifyValues(list *node.Node) *node.Node {
	if list.Kind != node.List {
		return list
	}
	return list.ReplaceElems(func(e *node.Node) *node.Node {
		return e.Replace(func(f *node.Field) *node.Node {
			if v := f.Value; f.Name == "value" && (v.Kind == node.Number || v.Kind == node.Bool) {
				return v.AsString()
			}
			return f.Value
		})
	})
}
