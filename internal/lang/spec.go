// This file holds the words of the spec language: its sections, the fields a daemon has
// beyond the API's, the keyed forms, and how messages write them in CUE or HCL.

package lang

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/daemongen/daemongen/internal/node"
)

// The sections of a spec's top level; an environment has defaults and daemons of its own.
const (
	SectionDaemons      = "daemons"
	SectionDefaults     = "defaults"
	SectionGroups       = "groups"
	SectionEnvironments = "environments"
)

// SpecFields are the top-level fields that make a file a spec rather than one definition.
var SpecFields = []string{SectionDaemons, SectionDefaults, SectionGroups, SectionEnvironments, "env"}

// The fields a layer of a daemon has beyond the API's own top-level fields: the concise
// forms and the spec's own settings, which lowering removes.
const (
	FieldContainers     = "containers"
	FieldGroup          = "group"
	FieldEnabled        = "enabled"
	FieldIgnoreWarnings = "ignoreWarnings"
	// fieldListens lists the ports a daemon listens on, and fieldBudget what an instance
	// gives its daemons: spec-only facts for the checks across an environment's daemons.
	FieldListens = "listens"
	FieldBudget  = "budget"
)

// NameRE is what family, environment and group names must look like: they become file and
// directory names.
var NameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// ConciseDaemonFields are the fields a daemon of a spec has beyond the API's.
var ConciseDaemonFields = append([]string{FieldContainers, EveryContainer}, SpecOnlyNames()...)

// KeyedSections are the spec fields whose keys are names: the next path element is a key.
var KeyedSections = map[string]string{SectionDaemons: "daemon", SectionGroups: "group", SectionEnvironments: "environment", "containers": "container"}

// HCLSpecPath writes a spec path (daemons.agent.containers.agent.memoryReservation) in HCL's
// names (daemon.agent.container.agent.memory_reservation).
func HCLSpecPath(path string) string {
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		if block, keyed := KeyedSections[parts[i]]; keyed && i+1 < len(parts) {
			parts[i] = block
			i++ // the key stays as written
			continue
		}
		keyedMap := IsKeyedMap(parts[i])
		parts[i] = Snake(parts[i])
		if keyedMap {
			i++ // a key of a map attribute (an environment variable, a volume) stays as written
		}
	}
	return strings.Join(parts, ".")
}

// IsKeyedMap reports whether the spec field name holds a struct keyed by the user's names:
// a keyed concise form (environment, volumes, ...) or a map of options.
func IsKeyedMap(name string) bool {
	for _, forms := range KeyedForms {
		if _, ok := forms[name]; ok {
			return true
		}
	}
	return name == "options"
}

// Words writes the spec forms that messages suggest, in the language of the file.
type Words struct{ hcl bool }

func WordsAt(pos token.Pos) Words { return Words{hcl: InHCL(pos)} }

// Name is a field name as the file writes it.
func (w Words) Name(s string) string {
	if w.hcl {
		return Snake(s)
	}
	return s
}

// InContainer is how a field is set in one container.
func (w Words) InContainer(field string) string {
	if w.hcl {
		return fmt.Sprintf(`container "NAME" { %s = ... }`, Snake(field))
	}
	return fmt.Sprintf("containers: NAME: {%s: ...}", field)
}

// EveryContainer is how a field is set for every container.
func (w Words) EveryContainer(field string) string {
	if w.hcl {
		return fmt.Sprintf("a defaults block's container { %s = ... }", Snake(field))
	}
	return fmt.Sprintf("container: {%s: ...}", field)
}

// Container is how a container is declared.
func (w Words) Container(name string) string {
	if w.hcl {
		return fmt.Sprintf("container %q { ... } in a daemon", name)
	}
	return fmt.Sprintf("containers: %s: {...}", CUELabelText(name))
}

// CUELabelText writes a field name as a CUE label, as [CUELabel] does.
func CUELabelText(name string) string {
	if id, ok := CUELabel(name).(*ast.Ident); ok {
		return id.Name
	}
	return strconv.Quote(name)
}

// EveryContainer is the field of a defaults layer that applies to every container.
const EveryContainer = "container"

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CUELabel writes a field name as an identifier where it can be one.
func CUELabel(name string) ast.Label {
	if identRE.MatchString(name) && !strings.HasPrefix(name, "_") {
		return ast.NewIdent(name)
	}
	return ast.NewString(name)
}

// KeyedForm describes a field that the concise form writes as a struct keyed by name and
// the API writes as a list. Each key becomes the element's keyField; a value that is not a
// struct is shorthand, which short expands.
type KeyedForm struct {
	KeyField string
	Short    func(v *node.Node) []*node.Field
}

// scalarAs expands a shorthand value into one field, name.
func scalarAs(name string) func(v *node.Node) []*node.Field {
	return func(v *node.Node) []*node.Field { return []*node.Field{{Name: name, Value: v}} }
}

// DaemonKeyed are the keyed fields of a daemon, under their concise names.
var DaemonKeyed = map[string]KeyedForm{
	// volumes: {"var-log": "/var/log"} is a host bind mount.
	"volumes": {KeyField: "name", Short: func(v *node.Node) []*node.Field {
		return []*node.Field{{Name: "host", Value: node.NewStruct(v.Pos, &node.Field{Name: "sourcePath", Value: v})}}
	}},
	"tags": {KeyField: "key", Short: scalarAs("value")},
}

// ContainerKeyed are the keyed fields of a container.
var ContainerKeyed = map[string]KeyedForm{
	"environment":    {KeyField: "name", Short: scalarAs("value")},
	"secrets":        {KeyField: "name", Short: scalarAs("valueFrom")},
	"dependsOn":      {KeyField: "containerName", Short: scalarAs("condition")},
	"systemControls": {KeyField: "namespace", Short: scalarAs("value")},
	"mountPoints":    {KeyField: "sourceVolume", Short: scalarAs("containerPath")},
	// ulimits: {nofile: 65536} sets both limits.
	"ulimits": {KeyField: "name", Short: func(v *node.Node) []*node.Field {
		return []*node.Field{{Name: "softLimit", Value: v}, {Name: "hardLimit", Value: v.Clone()}}
	}},
}

// LogKeyed are the keyed fields of a container's logConfiguration.
var LogKeyed = map[string]KeyedForm{
	"secretOptions": {KeyField: "name", Short: scalarAs("valueFrom")},
}

// KeyedForms are the keyed fields of each struct that has some, by the struct's abstract
// API path. (containers, whose concise name differs from the API's, is Lower's own.)
var KeyedForms = map[string]map[string]KeyedForm{
	DaemonLevel:                          DaemonKeyed,
	ContainerLevel:                       ContainerKeyed,
	ContainerLevel + ".logConfiguration": LogKeyed,
}

// SpecOnlyFields are the fields of a daemon in the spec language that the API lacks, in
// the order messages list them, with their type and what they do. Lowering leaves them out
// of the API form, the spec's check knows them, and explain describes them.
// SpecOnlyField is a field of a daemon in the spec language that the API lacks.
type SpecOnlyField struct{ Name, Type, Doc string }

var SpecOnlyFields = []SpecOnlyField{
	{FieldGroup, "string", "group names the group whose defaults the daemon takes (groups: NAME: defaults: {...}), between the spec's defaults and the environment's. Spec only: it never reaches the output."},
	{FieldEnabled, "bool", "enabled: false leaves the daemon out (in an environment's overlay, of that environment only); in HCL, enabled = env == \"prod\" works as Terraform's count. Spec only."},
	{FieldIgnoreWarnings, "list of warning ids", "ignoreWarnings acknowledges warnings by id, in any layer; the lists of all layers add up. Spec only. The ids: "},
	{FieldListens, "list of PORT/PROTOCOL", "listens lists the ports the daemon listens on (\"8125/udp\", \"4317/tcp\"; PORT 1 to 65535, tcp or udp), for the check that no two daemons of an environment take one port. Spec only."},
	{FieldBudget, "struct", "budget is what one instance gives all the daemons of an environment: {cpu: CPU units, memory: MiB}, in defaults or an environment's defaults. Over it is an error listing each daemon's share. Spec only."},
}

// SpecOnlyFieldNamed returns the spec-only field called name; its name is "" for any other.
func SpecOnlyFieldNamed(name string) (f SpecOnlyField) {
	for _, f := range SpecOnlyFields {
		if f.Name == name {
			return f
		}
	}
	return f
}

// SpecOnlyNames are the names of specOnlyFields, in order.
func SpecOnlyNames() []string {
	var names []string
	for _, f := range SpecOnlyFields {
		names = append(names, f.Name)
	}
	return names
}

// The abstract paths of the two levels where a field may be at the wrong one.
const (
	DaemonLevel    = ""
	ContainerLevel = "containerDefinitions.*"
)

// InHCL tells whether pos is in an .hcl file, whose messages use HCL's names.
func InHCL(pos token.Pos) bool { return Of(pos.Filename()) == HCL }

// SpecSections start the paths of a spec as written, in CUE's names and HCL's.
var SpecSections = []string{SectionDefaults, SectionGroups, SectionEnvironments, SectionDaemons, "group", "environment", "daemon"}

// Top is a spec's top level, read by its sections: the Go type of a spec, so that the
// stages that read one spell no section's name. The spec's structure check reads the
// sections themselves, to say what is wrong with them.
type Top struct{ *node.Node }

// Defaults are the defaults of every daemon, or nil.
func (t Top) Defaults() *node.Node { return t.Get(SectionDefaults) }

// GroupDefaults are the defaults of the group, or nil.
func (t Top) GroupDefaults(group string) *node.Node {
	return t.Get(SectionGroups).Get(group).Get(SectionDefaults)
}

// Daemons are the daemons, keyed by name.
func (t Top) Daemons() []*node.Field { return node.StructFields(t.Get(SectionDaemons)) }

// Daemon is the daemon key, or nil.
func (t Top) Daemon(key string) *node.Node { return t.Get(SectionDaemons).Get(key) }

// EnvironmentNames are the names of the environments the spec declares, in its order.
func (t Top) EnvironmentNames() []string {
	return node.Names(node.StructFields(t.Get(SectionEnvironments)))
}

// Environment is the environment env; its fields are nil when the spec lacks it.
func (t Top) Environment(env string) Environment {
	return Environment{t.Get(SectionEnvironments).Get(env)}
}

// Environment is one environment of a spec: its defaults and its overlays of daemons.
type Environment struct{ *node.Node }

// Defaults are the environment's defaults of every daemon, or nil.
func (e Environment) Defaults() *node.Node { return e.Get(SectionDefaults) }

// Daemons are the environment's overlays of daemons, keyed by daemon name.
func (e Environment) Daemons() []*node.Field { return node.StructFields(e.Get(SectionDaemons)) }

// Daemon is the environment's overlay of the daemon key, or nil.
func (e Environment) Daemon(key string) *node.Node { return e.Get(SectionDaemons).Get(key) }
