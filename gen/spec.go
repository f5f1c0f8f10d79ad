package gen

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
)

// The top-level fields of a spec.
// The sections of a spec's top level; an environment has defaults and daemons of its own.
const (
	sectionDaemons      = "daemons"
	sectionDefaults     = "defaults"
	sectionGroups       = "groups"
	sectionEnvironments = "environments"
)

var specFields = []string{sectionDaemons, sectionDefaults, sectionGroups, sectionEnvironments, "env"}

// The fields a layer of a daemon has beyond the API's own top-level fields: the concise
// forms and the spec's own settings, which [Lower] removes.
const (
	fieldContainers     = "containers"
	fieldGroup          = "group"
	fieldEnabled        = "enabled"
	fieldIgnoreWarnings = "ignoreWarnings"
	// fieldListens lists the ports a daemon listens on, and fieldBudget what an instance
	// gives its daemons: spec-only facts for the checks across an environment's daemons.
	fieldListens = "listens"
	fieldBudget  = "budget"
)

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

// specLayer is one daemon-like struct of a spec: a set of defaults or a daemon.
type specLayer struct {
	path     string
	node     *Node
	defaults bool // defaults apply to many daemons; a daemon layer describes one
}

// checkSpec reports every name of a spec's structure that does not fit: unknown top-level
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
func checkSpec(root *Node, params []string) (structural, local hcl.Diagnostics) {
	// misspelt are the sections that an unknown top-level field was likely meant to be:
	// names that would refer into them are not checked, since they can only fail.
	misspelt := map[string]bool{}
	for _, f := range root.Fields {
		if !slices.Contains(specFields, f.Name) && !slices.Contains(params, f.Name) {
			msg := "unknown top-level field; a spec has daemons, defaults, groups and environments (use a hidden field _name or a definition #Name for helpers)"
			if s := suggest(f.Name, specFields[:4]); s != "" {
				msg = fmt.Sprintf("unknown top-level field; did you mean %q?", s)
				misspelt[s] = root.Get(s) == nil
			}
			structural = append(structural, specDiag(f.Value.Pos, f.Name, msg))
		}
	}
	for _, name := range []string{sectionDaemons, sectionDefaults, sectionGroups, sectionEnvironments} {
		if n := root.Get(name); n != nil && n.Kind != Struct {
			structural = append(structural, specDiag(n.Pos, name, "must be a struct"))
		}
	}
	var layers []specLayer
	if d := root.Get(sectionDefaults); d != nil && d.Kind == Struct {
		layers = append(layers, specLayer{sectionDefaults, d, true})
	}
	daemons := structFields(root.Get(sectionDaemons))
	daemonNames := names(daemons)
	groups := structFields(root.Get(sectionGroups))
	groupNames := names(groups)
	for _, g := range groups {
		path := "groups." + g.Name
		if !nameRE.MatchString(g.Name) {
			structural = append(structural, specDiag(g.Value.Pos, path, "group names must be 1 to 255 letters, digits, hyphens and underscores"))
		}
		structural = append(structural, onlyFields(g.Value, path, sectionDefaults)...)
		if d := g.Value.Get(sectionDefaults); d != nil {
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
	for _, e := range structFields(root.Get(sectionEnvironments)) {
		path := "environments." + e.Name
		if !nameRE.MatchString(e.Name) {
			structural = append(structural, specDiag(e.Value.Pos, path, "environment names must be 1 to 255 letters, digits, hyphens and underscores: they name output folders"))
		}
		structural = append(structural, onlyFields(e.Value, path, sectionDefaults, sectionDaemons)...)
		if d := e.Value.Get(sectionDefaults); d != nil {
			if layer, ok := layerAt(d, path+".defaults", true, false, &structural); ok {
				layers = append(layers, layer)
			}
		}
		overlays := e.Value.Get(sectionDaemons)
		if overlays != nil && overlays.Kind != Struct {
			structural = append(structural, specDiag(overlays.Pos, path+".daemons", "must be a struct of daemon overlays keyed by daemon name"))
		}
		for _, d := range structFields(overlays) {
			dpath := path + ".daemons." + d.Name
			if !slices.Contains(daemonNames, d.Name) {
				if misspelt[sectionDaemons] {
					continue
				}
				msg := "names no daemon of this spec"
				if s := suggest(d.Name, daemonNames); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				structural = append(structural, specDiag(d.Value.Pos, dpath, msg))
				continue
			}
			if layer, ok := layerAt(d.Value, dpath, false, true, &structural); ok {
				layers = append(layers, layer)
			}
		}
	}
	for _, l := range layers {
		s, ls := checkLayer(l, groupNames, !misspelt[sectionGroups])
		structural = append(structural, s...)
		local = append(local, ls...)
	}
	return structural, local
}

// layerAt returns n as a layer, or reports why it cannot be one. An environment's overlay
// of a daemon may also be null: the daemon is left out of that environment.
func layerAt(n *Node, path string, defaults, nullable bool, diags *hcl.Diagnostics) (specLayer, bool) {
	switch {
	case n.Kind == Struct:
		return specLayer{path, n, defaults}, true
	case n.Kind == Null && nullable:
		return specLayer{}, false
	}
	msg := "must be a struct"
	if nullable {
		msg += ", or null to leave the daemon out of this environment"
	}
	*diags = append(*diags, specDiag(n.Pos, path, fmt.Sprintf("invalid value %s: %s", n.Literal(), msg)))
	return specLayer{}, false
}

// checkLayer reports the fields of one layer that belong elsewhere or name nothing, split as
// [checkSpec] does. Deeper values are checked on each daemon the layer reaches.
func checkLayer(l specLayer, groupNames []string, checkGroups bool) (structural, diags hcl.Diagnostics) {
	idx := schemaIndex()
	top, container := idx[""], idx["containerDefinitions.*"]
	for _, f := range l.node.Fields {
		path := l.path + "." + f.Name
		w := wordsAt(f.Value.Pos)
		switch f.Name {
		case fieldGroup:
			if l.defaults {
				diags = append(diags, specDiag(f.Value.Pos, path, "group belongs in a daemon (or an environment's overlay of one): defaults apply to the daemons of every group"))
				continue
			}
			if checkGroups {
				structural = append(structural, checkRef(f.Value, path, "group", groupNames)...)
			}
		case fieldEnabled:
			if l.defaults {
				diags = append(diags, specDiag(f.Value.Pos, path, "enabled belongs in a daemon or in an environment's overlay of one"))
			} else if f.Value.Kind != Bool {
				diags = append(diags, specDiag(f.Value.Pos, path, fmt.Sprintf("invalid value %s: must be true or false", f.Value.Literal())))
			}
		case fieldIgnoreWarnings:
			diags = append(diags, checkWarningIDs(f.Value, path)...)
		case fieldListens:
			if l.defaults {
				diags = append(diags, specDiag(f.Value.Pos, path, "listens belongs in a daemon (or an environment's overlay of one): a port in defaults would be every daemon's, and clash"))
				continue
			}
			_, ds := listenedPorts(f.Value, path)
			diags = append(diags, ds...)
		case fieldBudget:
			if !l.defaults || strings.HasPrefix(l.path, "groups.") {
				diags = append(diags, specDiag(f.Value.Pos, path, "budget belongs in defaults, or an environment's defaults: it is what one instance gives all the daemons of an environment"))
				continue
			}
			_, ds := readBudget(f.Value, path)
			diags = append(diags, ds...)
		case everyContainer:
			if f.Value.Kind != Struct {
				diags = append(diags, specDiag(f.Value.Pos, path, fmt.Sprintf("invalid value %s: must be a struct: the defaults of every container", f.Value.Literal())))
				continue
			}
			s, ls := checkContainerFields(f.Value, path, true)
			structural = append(structural, s...)
			diags = append(diags, ls...)
		case fieldContainers:
			for _, c := range structFields(f.Value) {
				cpath := path + "." + c.Name
				if _, isField := container.fields[c.Name]; isField {
					msg := fmt.Sprintf("%s is a container field, not a container name: containers are keyed by name, %s", w.name(c.Name), w.inContainer(c.Name))
					if l.defaults {
						msg = fmt.Sprintf("%s is a container field, not a container name: for the defaults of every container write %s", w.name(c.Name), w.everyContainer(c.Name))
					}
					structural = append(structural, specDiag(c.Value.Pos, cpath, msg))
					continue
				}
				if c.Value.Kind == Struct {
					_, ls := checkContainerFields(c.Value, cpath, false)
					diags = append(diags, ls...)
				}
			}
		default:
			if _, known := top.fields[f.Name]; !known {
				msg, _ := unknownFieldMessage(daemonLevel, f, true)
				diags = append(diags, specDiag(f.Value.Pos, path, msg))
			}
		}
	}
	return structural, diags
}

// checkContainerFields reports the fields of a container, or of the defaults of every
// container (everyOne), that are not container fields. In the defaults of every container,
// a struct that is no container field is a container declared in the wrong place: the
// daemon's containers are not what the spec meant, so that mistake is structural.
func checkContainerFields(c *Node, path string, everyOne bool) (structural, local hcl.Diagnostics) {
	container := schemaIndex()[containerLevel]
	for _, f := range c.Fields {
		if _, known := container.fields[f.Name]; known {
			continue
		}
		msg, _ := unknownFieldMessage(containerLevel, f, true)
		d := specDiag(f.Value.Pos, path+"."+f.Name, msg)
		if everyOne && f.Value.Kind == Struct {
			structural = append(structural, d)
		} else {
			local = append(local, d)
		}
	}
	return structural, local
}

// conciseDaemonFields are the fields a daemon of a spec has beyond the API's.
var conciseDaemonFields = append([]string{fieldContainers, everyContainer}, specOnlyNames()...)

// daemonLayerFields are the names a layer of a daemon may use: the API's top-level fields
// and the spec's own.
var daemonLayerFields = sync.OnceValue(func() []string {
	return append(slices.Clone(schemaIndex()[daemonLevel].order), conciseDaemonFields...)
})

// specDiag returns an error about a spec's structure at path (in CUE's names), written in
// the vocabulary of the file at pos.
func specDiag(pos token.Pos, path, msg string) *hcl.Diagnostic {
	if inHCL(pos) {
		path = hclSpecPath(path)
	}
	return newDiag(hcl.DiagError, pos, path, msg)
}

// keyedSections are the spec fields whose keys are names: the next path element is a key.
var keyedSections = map[string]string{sectionDaemons: "daemon", sectionGroups: "group", sectionEnvironments: "environment", "containers": "container"}

// hclSpecPath writes a spec path (daemons.agent.containers.agent.memoryReservation) in HCL's
// names (daemon.agent.container.agent.memory_reservation).
func hclSpecPath(path string) string {
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		if block, keyed := keyedSections[parts[i]]; keyed && i+1 < len(parts) {
			parts[i] = block
			i++ // the key stays as written
			continue
		}
		keyedMap := isKeyedMap(parts[i])
		parts[i] = hclspec.Snake(parts[i])
		if keyedMap {
			i++ // a key of a map attribute (an environment variable, a volume) stays as written
		}
	}
	return strings.Join(parts, ".")
}

// isKeyedMap reports whether the spec field name holds a struct keyed by the user's names:
// a keyed concise form (environment, volumes, ...) or a map of options.
func isKeyedMap(name string) bool {
	for _, forms := range keyedForms {
		if _, ok := forms[name]; ok {
			return true
		}
	}
	return name == "options"
}

// words writes the spec forms that messages suggest, in the language of the file.
type words struct{ hcl bool }

func wordsAt(pos token.Pos) words { return words{hcl: inHCL(pos)} }

// name is a field name as the file writes it.
func (w words) name(s string) string {
	if w.hcl {
		return hclspec.Snake(s)
	}
	return s
}

// inContainer is how a field is set in one container.
func (w words) inContainer(field string) string {
	if w.hcl {
		return fmt.Sprintf(`container "NAME" { %s = ... }`, hclspec.Snake(field))
	}
	return fmt.Sprintf("containers: NAME: {%s: ...}", field)
}

// everyContainer is how a field is set for every container.
func (w words) everyContainer(field string) string {
	if w.hcl {
		return fmt.Sprintf("a defaults block's container { %s = ... }", hclspec.Snake(field))
	}
	return fmt.Sprintf("container: {%s: ...}", field)
}

// container is how a container is declared.
func (w words) container(name string) string {
	if w.hcl {
		return fmt.Sprintf("container %q { ... } in a daemon", name)
	}
	return fmt.Sprintf("containers: %s: {...}", cueLabelText(name))
}

// cueLabelText writes a field name as a CUE label, as [cueLabel] does.
func cueLabelText(name string) string {
	if id, ok := cueLabel(name).(*ast.Ident); ok {
		return id.Name
	}
	return strconv.Quote(name)
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
		return hcl.Diagnostics{specDiag(n.Pos, path, "must be a struct")}
	}
	for _, f := range n.Fields {
		if !slices.Contains(allowed, f.Name) {
			msg := fmt.Sprintf("unknown field; allowed: %v", allowed)
			if s := suggest(f.Name, allowed); s != "" {
				msg = fmt.Sprintf("unknown field; did you mean %q?", s)
			}
			diags = append(diags, specDiag(f.Value.Pos, path+"."+f.Name, msg))
		}
	}
	return diags
}

// checkRef reports a reference (a group name) that names nothing.
func checkRef(n *Node, path, what string, known []string) hcl.Diagnostics {
	s, ok := n.Str()
	if !ok {
		return hcl.Diagnostics{specDiag(n.Pos, path, "must be a string naming a "+what)}
	}
	if slices.Contains(known, s) {
		return nil
	}
	msg := fmt.Sprintf("invalid value %q: names no %s of this spec", s, what)
	if best := suggest(s, known); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return hcl.Diagnostics{specDiag(n.Pos, path, msg)}
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
	daemon := root.Get(sectionDaemons).Get(key)
	var envDefaults, envDaemon *Node
	if env != "" {
		e := root.Get(sectionEnvironments).Get(env)
		envDefaults = e.Get(sectionDefaults)
		envDaemon = e.Get(sectionDaemons).Get(key)
	}
	group, _ := daemon.Get("group").Str()
	if g, ok := envDaemon.Get("group").Str(); ok {
		group = g
	}
	return []NamedLayer{
		{sectionDefaults, root.Get(sectionDefaults)},
		{"group " + group + " defaults", root.Get(sectionGroups).Get(group).Get(sectionDefaults)},
		{"environment " + env + " defaults", envDefaults},
		{"daemon " + key, daemon},
		{"environment " + env + " daemon " + key, envDaemon},
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
		case l.Node.Kind == Null:
			enabled = false
		default:
			if v := l.Node.Get(fieldEnabled); v != nil && v.Kind == Bool {
				enabled = v.Bool
			}
		}
	}
	return enabled
}

// everyContainer is the field of a defaults layer that applies to every container.
const everyContainer = "container"

// Layer merges the layers of one daemon, lowest first, into its concise form: see
// [Layers] for the order and [merge] for how two values combine. Each layer's
// `container` field, the defaults for every container, goes under each container.
func Layer(layers []NamedLayer) *Node {
	var daemon *Node
	for _, nl := range layers {
		l := nl.Node
		if l == nil || l.Kind != Struct {
			continue
		}
		if l.Get(everyContainer) != nil {
			l = l.Clone() // Delete must not change the spec
			l.Delete(everyContainer)
		}
		daemon = merge(daemon, l)
	}
	if daemon == nil {
		return nil
	}
	if container := containerDefaults(layers); container != nil {
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

// containerDefaults merges the layers' `container` fields, lowest first: what every
// container of the daemon starts from.
func containerDefaults(layers []NamedLayer) *Node {
	var container *Node
	for _, l := range layers {
		if c := l.Node.Get(everyContainer); c != nil {
			container = merge(container, c)
		}
	}
	return container
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
