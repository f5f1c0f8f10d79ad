package gen

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// The top-level fields of a spec.
var specFields = []string{"daemons", "defaults", "groups", "environments", "env"}

// nameRE is what family, environment and group names must look like: they become file and
// directory names.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// isSpec tells a spec (daemons keyed by name) from one daemon task definition in API form.
func isSpec(root *Node) bool {
	if root.Kind != Struct {
		return false
	}
	for _, f := range root.Fields {
		if slices.Contains(specFields, f.Name) {
			return true
		}
	}
	return len(root.Fields) == 0
}

// checkSpec reports unknown top-level fields, unknown group and environment fields, and
// overlays that name no daemon.
func checkSpec(root *Node) (diags hcl.Diagnostics) {
	for _, f := range root.Fields {
		if !slices.Contains(specFields, f.Name) {
			msg := "unknown top-level field; a spec has daemons, defaults, groups and environments (use a hidden field _name or a definition #Name for helpers)"
			if s := suggest(f.Name, specFields[:4]); s != "" {
				msg = fmt.Sprintf("unknown top-level field; did you mean %q?", s)
			}
			diags = append(diags, newDiag(hcl.DiagError, f.Value.Pos, f.Name, msg))
		}
	}
	for _, name := range []string{"daemons", "defaults", "groups", "environments"} {
		if n := root.Get(name); n != nil && n.Kind != Struct {
			diags = append(diags, newDiag(hcl.DiagError, n.Pos, name, "must be a struct"))
		}
	}
	daemons := structFields(root.Get("daemons"))
	daemonNames := names(daemons)
	groups := structFields(root.Get("groups"))
	for _, g := range groups {
		diags = append(diags, onlyFields(g.Value, "groups."+g.Name, "defaults")...)
		if !nameRE.MatchString(g.Name) {
			diags = append(diags, newDiag(hcl.DiagError, g.Value.Pos, "groups."+g.Name, "group names must be 1 to 255 letters, digits, hyphens and underscores"))
		}
	}
	for _, d := range daemons {
		if d.Value.Kind != Struct {
			diags = append(diags, newDiag(hcl.DiagError, d.Value.Pos, "daemons."+d.Name, "must be a struct"))
			continue
		}
		if g := d.Value.Get("group"); g != nil {
			diags = append(diags, checkRef(g, "daemons."+d.Name+".group", "group", names(groups))...)
		}
	}
	for _, e := range structFields(root.Get("environments")) {
		path := "environments." + e.Name
		if !nameRE.MatchString(e.Name) {
			diags = append(diags, newDiag(hcl.DiagError, e.Value.Pos, path, "environment names must be 1 to 255 letters, digits, hyphens and underscores: they name output folders"))
		}
		diags = append(diags, onlyFields(e.Value, path, "defaults", "daemons")...)
		for _, d := range structFields(e.Value.Get("daemons")) {
			if !slices.Contains(daemonNames, d.Name) {
				msg := "names no daemon of this spec"
				if s := suggest(d.Name, daemonNames); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				diags = append(diags, newDiag(hcl.DiagError, d.Value.Pos, path+".daemons."+d.Name, msg))
			}
		}
	}
	return diags
}

func structFields(n *Node) []*Field {
	if n == nil || n.Kind != Struct {
		return nil
	}
	return n.Fields
}

func names(fs []*Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// onlyFields reports the fields of n other than allowed.
func onlyFields(n *Node, path string, allowed ...string) (diags hcl.Diagnostics) {
	if n.Kind != Struct {
		return hcl.Diagnostics{newDiag(hcl.DiagError, n.Pos, path, "must be a struct")}
	}
	for _, f := range n.Fields {
		if !slices.Contains(allowed, f.Name) {
			msg := fmt.Sprintf("unknown field; allowed: %v", allowed)
			if s := suggest(f.Name, allowed); s != "" {
				msg = fmt.Sprintf("unknown field; did you mean %q?", s)
			}
			diags = append(diags, newDiag(hcl.DiagError, f.Value.Pos, path+"."+f.Name, msg))
		}
	}
	return diags
}

// checkRef reports a reference (a group name) that names nothing.
func checkRef(n *Node, path, what string, known []string) hcl.Diagnostics {
	s, ok := n.Str()
	if !ok {
		return hcl.Diagnostics{newDiag(hcl.DiagError, n.Pos, path, "must be a string naming a "+what)}
	}
	if slices.Contains(known, s) {
		return nil
	}
	msg := fmt.Sprintf("invalid value %q: names no %s of this spec", s, what)
	if best := suggest(s, known); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return hcl.Diagnostics{newDiag(hcl.DiagError, n.Pos, path, msg)}
}

// NamedLayer is one layer of a daemon, with the name people know it by.
type NamedLayer struct {
	Name string
	Node *Node // nil when the spec has no such layer
}

// Layers returns the layers that make up daemon key in environment env (env is "" when the
// spec declares no environments), lowest first. A higher layer's value replaces a lower
// one's; structs merge field by field. The order is:
//
//  1. defaults: every daemon of the spec;
//  2. groups[G].defaults, where G is the daemon's group;
//  3. environments[env].defaults: every daemon in that environment;
//  4. daemons[key]: the daemon itself;
//  5. environments[env].daemons[key]: the daemon in that environment.
//
// So a daemon's own value wins over every default, and an environment's value for one
// daemon wins over everything. This is the only place that decides the order.
func Layers(root *Node, key, env string) []NamedLayer {
	daemon := root.Get("daemons").Get(key)
	var envDefaults, envDaemon *Node
	if env != "" {
		e := root.Get("environments").Get(env)
		envDefaults = e.Get("defaults")
		envDaemon = e.Get("daemons").Get(key)
	}
	group, _ := daemon.Get("group").Str()
	if g, ok := envDaemon.Get("group").Str(); ok {
		group = g
	}
	return []NamedLayer{
		{"defaults", root.Get("defaults")},
		{"group " + group + " defaults", root.Get("groups").Get(group).Get("defaults")},
		{"environment " + env + " defaults", envDefaults},
		{"daemon " + key, daemon},
		{"environment " + env + " daemon " + key, envDaemon},
	}
}

// everyContainer is the field of a defaults layer that applies to every container.
const everyContainer = "container"

// Layer merges the layers of one daemon, lowest first, into its concise form: see
// [Layers] for the order and [merge] for how two values combine. Each layer's
// `container` field, the defaults for every container, goes under each container.
func Layer(layers []NamedLayer) *Node {
	var daemon, container *Node
	for _, nl := range layers {
		l := nl.Node
		if l == nil || l.Kind != Struct {
			continue
		}
		l = l.Clone() // merge and Delete below must not change the spec
		if c := l.Get(everyContainer); c != nil {
			container = merge(container, c)
			l.Delete(everyContainer)
		}
		daemon = merge(daemon, l)
	}
	if daemon == nil {
		return nil
	}
	if container != nil {
		if cs := daemon.Get("containers"); cs != nil && cs.Kind == Struct {
			for _, f := range cs.Fields {
				f.Value = merge(container, f.Value)
			}
		}
		if cs := daemon.Get("containerDefinitions"); cs != nil && cs.Kind == List {
			for i, c := range cs.Elems {
				cs.Elems[i] = merge(container, c)
			}
		}
	}
	return stripNulls(daemon)
}

// merge returns higher laid over lower. Structs merge field by field; any other value of
// higher replaces lower's, lists included; null removes. A log configuration whose
// logDriver changes is replaced whole, since one driver's options mean nothing to another.
func merge(lower, higher *Node) *Node {
	if higher == nil {
		return lower.Clone()
	}
	if lower == nil {
		return higher.Clone()
	}
	if lower.Kind == Struct && higher.Kind == Struct && !driverChanges(lower, higher) {
		out := NewStruct(higher.Pos)
		for _, f := range lower.Fields {
			out.Fields = append(out.Fields, &Field{Name: f.Name, Value: merge(f.Value, higher.Get(f.Name))})
		}
		for _, f := range higher.Fields {
			if lower.Get(f.Name) == nil {
				out.Fields = append(out.Fields, &Field{Name: f.Name, Value: f.Value.Clone()})
			}
		}
		return out
	}
	return higher.Clone()
}

func driverChanges(lower, higher *Node) bool {
	a, okA := lower.Get("logDriver").Str()
	b, okB := higher.Get("logDriver").Str()
	return okA && okB && a != b
}

// stripNulls removes null fields: in a layered spec, null means "unset what a lower layer set".
func stripNulls(n *Node) *Node {
	switch n.Kind {
	case Struct:
		kept := n.Fields[:0:0]
		for _, f := range n.Fields {
			if f.Value.Kind != Null {
				f.Value = stripNulls(f.Value)
				kept = append(kept, f)
			}
		}
		n.Fields = kept
	case List:
		for i, e := range n.Elems {
			n.Elems[i] = stripNulls(e)
		}
	}
	return n
}
