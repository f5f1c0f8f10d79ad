// Package spec is the stage between a front end and the evaluator: it checks a spec's
// structure (sections, layers, names, the spec-only fields), layers a daemon's defaults,
// group, environment and overlay into one ([Layers] owns the order), checks the names an
// overlay adds, and lowers the concise form into the API form ([Lower]).
package spec

import (
	"fmt"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// IsSpec tells a spec (daemons keyed by name) from one daemon task definition in API form.
func IsSpec(root *node.Node) bool {
	if root.Kind != node.Struct {
		return false
	}
	for _, f := range root.Fields {
		if slices.Contains(lang.SpecFields, f.Name) {
			return true
		}
	}
	return len(root.Fields) == 0
}

// specLayer is one daemon-like struct of a spec: a set of defaults or a daemon.
type specLayer struct {
	path     string
	node     *node.Node
	defaults bool // defaults apply to many daemons; a daemon layer describes one
}

// Check reports every name of a spec's structure that does not fit: unknown top-level
// fields, unknown fields of groups and environments, layers that are not structs, group
// references that name no group, overlays that name no daemon, and fields of a layer that
// belong elsewhere (a container field at the daemon level, a daemon field in a container).
// It runs on every evaluation of the spec, once per environment, so that a name used only
// in one environment's overlay is checked too.
//
// structural are the mistakes that change which layers make up a daemon (an unknown
// top-level, group or environment field, a group that does not exist): checking the daemons
// would only repeat them as knock-on errors. local are the mistakes within one layer, which
// the daemons' own checks report alike, so that each is reported once.
// params are the top-level fields the spec declares with @tag, which it may hold too.
func Check(root *node.Node, params []string) (structural, local hcl.Diagnostics) {
	// misspelt are the sections that an unknown top-level field was likely meant to be:
	// names that would refer into them are not checked, since they can only fail.
	misspelt := map[string]bool{}
	for _, f := range root.Fields {
		if !slices.Contains(lang.SpecFields, f.Name) && !slices.Contains(params, f.Name) {
			msg := "unknown top-level field; a spec has daemons, defaults, groups and environments (use a hidden field _name or a definition #Name for helpers)"
			if s := diag.Suggest(f.Name, lang.SpecFields[:4]); s != "" {
				msg = fmt.Sprintf("unknown top-level field; did you mean %q?", s)
				misspelt[s] = root.Get(s) == nil
			}
			structural = append(structural, Diag(f.Value.Pos, f.Name, msg))
		}
	}
	for _, name := range []string{lang.SectionDaemons, lang.SectionDefaults, lang.SectionGroups, lang.SectionEnvironments} {
		if n := root.Get(name); n != nil && n.Kind != node.Struct {
			structural = append(structural, Diag(n.Pos, name, "must be a struct"))
		}
	}
	var layers []specLayer
	if d := root.Get(lang.SectionDefaults); d != nil && d.Kind == node.Struct {
		layers = append(layers, specLayer{lang.SectionDefaults, d, true})
	}
	daemons := node.StructFields(root.Get(lang.SectionDaemons))
	daemonNames := node.Names(daemons)
	groups := node.StructFields(root.Get(lang.SectionGroups))
	groupNames := node.Names(groups)
	for _, g := range groups {
		path := "groups." + g.Name
		if !lang.NameRE.MatchString(g.Name) {
			structural = append(structural, Diag(g.Value.Pos, path, "group names must be 1 to 255 letters, digits, hyphens and underscores"))
		}
		structural = append(structural, onlyFields(g.Value, path, lang.SectionDefaults)...)
		if d := g.Value.Get(lang.SectionDefaults); d != nil {
			if layer, ok := layerAt(d, path+".defaults", true, false, &structural); ok {
				layers = append(layers, layer)
			}
		}
	}
	for _, d := range daemons {
		if layer, ok := layerAt(d.Value, "daemons."+d.Name, false, false, &structural); ok {
			layers = append(layers, layer)
		}
	}
	for _, e := range node.StructFields(root.Get(lang.SectionEnvironments)) {
		path := "environments." + e.Name
		if !lang.NameRE.MatchString(e.Name) {
			structural = append(structural, Diag(e.Value.Pos, path, "environment names must be 1 to 255 letters, digits, hyphens and underscores: they name output folders"))
		}
		structural = append(structural, onlyFields(e.Value, path, lang.SectionDefaults, lang.SectionDaemons)...)
		if d := e.Value.Get(lang.SectionDefaults); d != nil {
			if layer, ok := layerAt(d, path+".defaults", true, false, &structural); ok {
				layers = append(layers, layer)
			}
		}
		overlays := e.Value.Get(lang.SectionDaemons)
		if overlays != nil && overlays.Kind != node.Struct {
			structural = append(structural, Diag(overlays.Pos, path+".daemons", "must be a struct of daemon overlays keyed by daemon name"))
		}
		for _, d := range node.StructFields(overlays) {
			dpath := path + ".daemons." + d.Name
			if !slices.Contains(daemonNames, d.Name) {
				if misspelt[lang.SectionDaemons] {
					continue
				}
				msg := "names no daemon of this spec"
				if s := diag.Suggest(d.Name, daemonNames); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				structural = append(structural, Diag(d.Value.Pos, dpath, msg))
				continue
			}
			if layer, ok := layerAt(d.Value, dpath, false, true, &structural); ok {
				layers = append(layers, layer)
			}
		}
	}
	for _, l := range layers {
		s, ls := checkLayer(l, groupNames, !misspelt[lang.SectionGroups])
		structural = append(structural, s...)
		local = append(local, ls...)
	}
	return structural, local
}

// layerAt returns n as a layer, or reports why it cannot be one. An environment's overlay
// of a daemon may also be null: the daemon is left out of that environment.
func layerAt(n *node.Node, path string, defaults, nullable bool, diags *hcl.Diagnostics) (specLayer, bool) {
	switch {
	case n.Kind == node.Struct:
		return specLayer{path, n, defaults}, true
	case n.Kind == node.Null && nullable:
		return specLayer{}, false
	}
	msg := "must be a struct"
	if nullable {
		msg += ", or null to leave the daemon out of this environment"
	}
	*diags = append(*diags, Diag(n.Pos, path, fmt.Sprintf("invalid value %s: %s", n.Literal(), msg)))
	return specLayer{}, false
}

// checkLayer reports the fields of one layer that belong elsewhere or name nothing, split as
// [Check] does. Deeper values are checked on each daemon the layer reaches.
func checkLayer(l specLayer, groupNames []string, checkGroups bool) (structural, diags hcl.Diagnostics) {
	idx := schema.Index()
	top, container := idx[""], idx["containerDefinitions.*"]
	for _, f := range l.node.Fields {
		path := l.path + "." + f.Name
		w := lang.WordsAt(f.Value.Pos)
		switch f.Name {
		case lang.FieldGroup:
			if l.defaults {
				diags = append(diags, Diag(f.Value.Pos, path, "group belongs in a daemon (or an environment's overlay of one): defaults apply to the daemons of every group"))
				continue
			}
			if checkGroups {
				structural = append(structural, checkRef(f.Value, path, "group", groupNames)...)
			}
		case lang.FieldEnabled:
			if l.defaults {
				diags = append(diags, Diag(f.Value.Pos, path, "enabled belongs in a daemon or in an environment's overlay of one"))
			} else if f.Value.Kind != node.Bool {
				diags = append(diags, Diag(f.Value.Pos, path, fmt.Sprintf("invalid value %s: must be true or false", f.Value.Literal())))
			}
		case lang.FieldIgnoreWarnings:
			diags = append(diags, CheckWarningIDs(f.Value, path)...)
		case lang.FieldListens:
			if l.defaults {
				diags = append(diags, Diag(f.Value.Pos, path, "listens belongs in a daemon (or an environment's overlay of one): a port in defaults would be every daemon's, and clash"))
				continue
			}
			_, ds := ListenedPorts(f.Value, path)
			diags = append(diags, ds...)
		case lang.FieldBudget:
			if !l.defaults || strings.HasPrefix(l.path, "groups.") {
				diags = append(diags, Diag(f.Value.Pos, path, "budget belongs in defaults, or an environment's defaults: it is what one instance gives all the daemons of an environment"))
				continue
			}
			_, ds := ReadBudget(f.Value, path)
			diags = append(diags, ds...)
		case lang.EveryContainer:
			if f.Value.Kind != node.Struct {
				diags = append(diags, Diag(f.Value.Pos, path, fmt.Sprintf("invalid value %s: must be a struct: the defaults of every container", f.Value.Literal())))
				continue
			}
			s, ls := checkContainerFields(f.Value, path, true)
			structural = append(structural, s...)
			diags = append(diags, ls...)
		case lang.FieldContainers:
			for _, c := range node.StructFields(f.Value) {
				cpath := path + "." + c.Name
				if _, isField := container.Fields[c.Name]; isField {
					msg := fmt.Sprintf("%s is a container field, not a container name: containers are keyed by name, %s", w.Name(c.Name), w.InContainer(c.Name))
					if l.defaults {
						msg = fmt.Sprintf("%s is a container field, not a container name: for the defaults of every container write %s", w.Name(c.Name), w.EveryContainer(c.Name))
					}
					structural = append(structural, Diag(c.Value.Pos, cpath, msg))
					continue
				}
				if c.Value.Kind == node.Struct {
					_, ls := checkContainerFields(c.Value, cpath, false)
					diags = append(diags, ls...)
				}
			}
		default:
			if _, known := top.Fields[f.Name]; !known {
				msg, _ := schema.UnknownFieldMessage(lang.DaemonLevel, f, true)
				diags = append(diags, Diag(f.Value.Pos, path, msg))
			}
		}
	}
	return structural, diags
}

// checkContainerFields reports the fields of a container, or of the defaults of every
// container (everyOne), that are not container fields. In the defaults of every container,
// a struct that is no container field is a container declared in the wrong place: the
// daemon's containers are not what the spec meant, so that mistake is structural.
func checkContainerFields(c *node.Node, path string, everyOne bool) (structural, local hcl.Diagnostics) {
	container := schema.Index()[lang.ContainerLevel]
	for _, f := range c.Fields {
		if _, known := container.Fields[f.Name]; known {
			continue
		}
		msg, _ := schema.UnknownFieldMessage(lang.ContainerLevel, f, true)
		d := Diag(f.Value.Pos, path+"."+f.Name, msg)
		if everyOne && f.Value.Kind == node.Struct {
			structural = append(structural, d)
		} else {
			local = append(local, d)
		}
	}
	return structural, local
}

// Diag returns an error about a spec's structure at path (in CUE's names), written in
// the vocabulary of the file at pos.
func Diag(pos token.Pos, path, msg string) *hcl.Diagnostic {
	if lang.InHCL(pos) {
		path = lang.HCLSpecPath(path)
	}
	return diag.New(hcl.DiagError, pos, path, msg)
}

// onlyFields reports the fields of n other than allowed.
func onlyFields(n *node.Node, path string, allowed ...string) (diags hcl.Diagnostics) {
	if n.Kind != node.Struct {
		return hcl.Diagnostics{Diag(n.Pos, path, "must be a struct")}
	}
	for _, f := range n.Fields {
		if !slices.Contains(allowed, f.Name) {
			msg := fmt.Sprintf("unknown field; allowed: %v", allowed)
			if s := diag.Suggest(f.Name, allowed); s != "" {
				msg = fmt.Sprintf("unknown field; did you mean %q?", s)
			}
			diags = append(diags, Diag(f.Value.Pos, path+"."+f.Name, msg))
		}
	}
	return diags
}

// checkRef reports a reference (a group name) that names nothing.
func checkRef(n *node.Node, path, what string, known []string) hcl.Diagnostics {
	s, ok := n.Str()
	if !ok {
		return hcl.Diagnostics{Diag(n.Pos, path, "must be a string naming a "+what)}
	}
	if slices.Contains(known, s) {
		return nil
	}
	msg := fmt.Sprintf("invalid value %q: names no %s of this spec", s, what)
	if best := diag.Suggest(s, known); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return hcl.Diagnostics{Diag(n.Pos, path, msg)}
}

// LayerKind is which layer of a daemon a [NamedLayer] is; [Layers] returns them in this
// order, lowest first.
type LayerKind int

// The layers of a daemon, lowest first.
const (
	LayerDefaults            LayerKind = iota // the spec's defaults
	LayerGroup                                // the defaults of the daemon's group
	LayerEnvironmentDefaults                  // the environment's defaults
	LayerDaemon                               // the daemon itself
	LayerEnvironmentDaemon                    // the environment's overlay of the daemon
)

// NamedLayer is one layer of a daemon, with the name people know it by.
type NamedLayer struct {
	Kind LayerKind
	Name string
	Node *node.Node // nil when the spec has no such layer
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
func Layers(root *node.Node, key, env string) []NamedLayer {
	top := lang.Top{Node: root}
	daemon := top.Daemon(key)
	var envDefaults, envDaemon *node.Node
	if env != "" {
		e := top.Environment(env)
		envDefaults, envDaemon = e.Defaults(), e.Daemon(key)
	}
	group, _ := daemon.Get("group").Str()
	if g, ok := envDaemon.Get("group").Str(); ok {
		group = g
	}
	return []NamedLayer{
		{LayerDefaults, lang.SectionDefaults, top.Defaults()},
		{LayerGroup, "group " + group + " defaults", top.GroupDefaults(group)},
		{LayerEnvironmentDefaults, "environment " + env + " defaults", envDefaults},
		{LayerDaemon, "daemon " + key, daemon},
		{LayerEnvironmentDaemon, "environment " + env + " daemon " + key, envDaemon},
	}
}

// Enabled reports whether a daemon is generated, given its layers (see [Layers]): an
// environment leaves a daemon out with a null overlay (CUE: environments: E: daemons: K:
// null) or with enabled: false (HCL: enabled = false in the daemon's block, or in its
// overlay in the environment's block). The higher layer's enabled wins.
func Enabled(layers []NamedLayer) bool {
	enabled := true
	for _, l := range layers {
		switch {
		case l.Node == nil:
		case l.Node.Kind == node.Null:
			enabled = false
		default:
			if v := l.Node.Get(lang.FieldEnabled); v != nil && v.Kind == node.Bool {
				enabled = v.Bool
			}
		}
	}
	return enabled
}

// Layer merges the layers of one daemon, lowest first, into its concise form: see
// [Layers] for the order and [Merge] for how two values combine. Each layer's
// `container` field, the defaults for every container, goes under each container.
func Layer(layers []NamedLayer) *node.Node {
	var daemon *node.Node
	for _, nl := range layers {
		l := nl.Node
		if l == nil || l.Kind != node.Struct {
			continue
		}
		if l.Get(lang.EveryContainer) != nil {
			l = l.Clone() // Delete must not change the spec
			l.Delete(lang.EveryContainer)
		}
		daemon = Merge(daemon, l)
	}
	if daemon == nil {
		return nil
	}
	if container := ContainerDefaults(layers); container != nil {
		if cs := daemon.Get("containers"); cs != nil && cs.Kind == node.Struct {
			for _, f := range cs.Fields {
				f.Value = Merge(container, f.Value)
			}
		}
		if cs := daemon.Get("containerDefinitions"); cs != nil && cs.Kind == node.List {
			for i, c := range cs.Elems {
				cs.Elems[i] = Merge(container, c)
			}
		}
	}
	return stripNulls(daemon)
}

// ContainerDefaults merges the layers' `container` fields, lowest first: what every
// container of the daemon starts from.
func ContainerDefaults(layers []NamedLayer) *node.Node {
	var container *node.Node
	for _, l := range layers {
		if c := l.Node.Get(lang.EveryContainer); c != nil {
			container = Merge(container, c)
		}
	}
	return container
}

// Merge returns higher laid over lower. Structs merge field by field; any other value of
// higher replaces lower's, lists included; null removes. A log configuration whose
// logDriver changes is replaced whole, since one driver's options mean nothing to another.
func Merge(lower, higher *node.Node) *node.Node {
	if higher == nil {
		return lower.Clone()
	}
	if lower == nil {
		return higher.Clone()
	}
	if lower.Kind == node.Struct && higher.Kind == node.Struct && !driverChanges(lower, higher) {
		out := node.NewStruct(higher.Pos)
		for _, f := range lower.Fields {
			out.Fields = append(out.Fields, &node.Field{Name: f.Name, Value: Merge(f.Value, higher.Get(f.Name))})
		}
		for _, f := range higher.Fields {
			if lower.Get(f.Name) == nil {
				out.Fields = append(out.Fields, &node.Field{Name: f.Name, Value: f.Value.Clone()})
			}
		}
		return out
	}
	return higher.Clone()
}

func driverChanges(lower, higher *node.Node) bool {
	a, okA := lower.Get("logDriver").Str()
	b, okB := higher.Get("logDriver").Str()
	return okA && okB && a != b
}

// stripNulls removes null fields: in a layered spec, null means "unset what a lower layer set".
func stripNulls(n *node.Node) *node.Node {
	switch n.Kind {
	case node.Struct:
		kept := n.Fields[:0:0]
		for _, f := range n.Fields {
			if f.Value.Kind != node.Null {
				f.Value = stripNulls(f.Value)
				kept = append(kept, f)
			}
		}
		n.Fields = kept
	case node.List:
		for i, e := range n.Elems {
			n.Elems[i] = stripNulls(e)
		}
	}
	return n
}
