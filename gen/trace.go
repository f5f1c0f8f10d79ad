package gen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/spec"
)

// TraceEntry is what one layer of a daemon writes at a path.
type TraceEntry struct {
	Layer string
	Value *Node
}

// TraceResult is where a daemon's value at a path comes from in one environment.
type TraceResult struct {
	// Env is the environment, "" for a spec without environments.
	Env string
	// Final is the value the daemon ends up with; nil when no layer sets it.
	Final *Node
	// Entries are the layers that write the path, lowest first.
	Entries []TraceEntry
	// Policies are the policy rules that apply to the daemon there, each with where the
	// policy says it.
	Policies []string
}

// Trace shows where the value at path of daemon family comes from: the final value, and
// each layer that writes it, lowest first, in environment env, or in each environment the
// daemon is generated for when env is "". path is a path of the spec's concise form, in
// CUE's names (containers.agent.memoryReservation, logConfiguration.options.awslogs-group)
// or HCL's (container.agent.memory_reservation). A path that names no field of the spec
// language, or a container the daemon does not have, is a [*UsageError] with a suggestion.
// A layer's every-container defaults count for each container. Trace does not use the
// cache.
func Trace(cfg Config, family, env, path string) ([]TraceResult, error) {
	// The cache remembers outputs, not the layers a trace reads: a source it replays is
	// never evaluated, so a trace always evaluates every source.
	cfg.Cache = nil
	policies, problems := loadPolicies(cfg)
	if problems.HasErrors() {
		return nil, fmt.Errorf("the policy has errors; run daemongen vet")
	}
	p, diags, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	units, unitDiags := p.allUnits()
	if diags = append(diags, unitDiags...); diags.HasErrors() {
		return nil, fmt.Errorf("the specs have errors; run daemongen vet")
	}
	var found []*unit
	var families []string
	for _, u := range units {
		if u.raw || (env != "" && u.env != env) {
			continue
		}
		name := u.key
		if f, ok := (lang.Top{Node: u.root}).Daemon(u.key).Get("family").Str(); ok {
			name = f
		}
		families = append(families, name)
		if name == family {
			found = append(found, u)
		}
	}
	if len(found) == 0 {
		msg := fmt.Sprintf("no daemon has the family %q", family)
		if env != "" {
			msg += fmt.Sprintf(" in environment %q", env)
		}
		if s := diag.Suggest(family, families); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return nil, &UsageError{Msg: msg}
	}
	sel, err := conciseSelector(path)
	if err != nil {
		return nil, err
	}
	var results []TraceResult
	for _, u := range found {
		layers := spec.Layers(u.root, u.key, u.env)
		daemon := spec.Layer(layers)
		if len(sel) > 1 && sel[0] == lang.FieldContainers {
			if names := node.Names(node.StructFields(daemon.Get(lang.FieldContainers))); !slices.Contains(names, sel[1].(string)) {
				msg := fmt.Sprintf("%s has no container %q (its containers: %s)", family, sel[1], strings.Join(names, ", "))
				if s := diag.Suggest(sel[1].(string), names); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return nil, &UsageError{Msg: msg}
			}
		}
		r := TraceResult{Env: u.env}
		for _, l := range layers {
			if v, _ := l.Node.Lookup(sel); v != nil && len(sel) > 0 {
				r.Entries = append(r.Entries, TraceEntry{Layer: l.Name, Value: v})
			}
			if len(sel) > 2 && sel[0] == lang.FieldContainers {
				if v, _ := l.Node.Lookup(append([]any{lang.EveryContainer}, sel[2:]...)); v != nil {
					r.Entries = append(r.Entries, TraceEntry{Layer: l.Name + " (every container)", Value: v})
				}
			}
		}
		r.Final, _ = daemon.Lookup(sel)
		for _, rule := range policies.Applying(family, u.env) {
			r.Policies = append(r.Policies, fmt.Sprintf("%s (%s:%d:%d)", rule.Name, diag.RelativeName(cfg.Dir, rule.At.Filename), rule.At.Line, rule.At.Column))
		}
		results = append(results, r)
	}
	return results, nil
}

// conciseSelector checks path against the spec language and returns its elements in the
// concise form's (CUE's) names: HCL's names (container, mount_point, memory_reservation)
// are translated, and keys (container names, variable names, option names) kept as they
// are. A name the spec language does not have is an error with a suggestion.
func conciseSelector(path string) ([]any, error) {
	idx := schema.Index()
	var sel []any
	at := lang.DaemonLevel // the abstract API path of the struct the next name belongs to
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		name := lang.ConciseName(parts[i])
		var known []string
		switch {
		case at == lang.DaemonLevel:
			known = schema.DaemonLayerFields()
		case idx[at] != nil:
			known = idx[at].Order
		default:
			return nil, &UsageError{Msg: fmt.Sprintf("%s: %s is not a struct", path, strings.Join(parts[:i], "."))}
		}
		if !slices.Contains(known, name) {
			msg := fmt.Sprintf("%s: the spec language has no field %s", path, strings.Join(parts[:i+1], "."))
			if s := diag.Suggest(name, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", strings.Join(append(slices.Clone(parts[:i]), s), "."))
			}
			return nil, &UsageError{Msg: msg}
		}
		sel = append(sel, name)
		keyed := false
		switch {
		case at == lang.DaemonLevel && name == lang.FieldContainers:
			at, keyed = lang.ContainerLevel, true
		case lang.KeyedForms[at][name].KeyField != "":
			at, keyed = lang.JoinAbstract(at, name)+".*", true
		default:
			at = lang.JoinAbstract(at, name)
			if sn := idx[at]; sn != nil && sn.IsMap && i+1 < len(parts) {
				// The keys of a free-form map (log options) are data.
				return append(sel, strings.Join(parts[i+1:], ".")), nil
			}
		}
		// A key (a container, volume, variable or option name) follows.
		if keyed && i+1 < len(parts) {
			i++
			sel = append(sel, parts[i])
		}
	}
	return sel, nil
}

// FormatPos writes a position as file:line:col relative to dir.
func FormatPos(n *Node, dir string) string {
	r := diag.RangeAt(n.Pos)
	return fmt.Sprintf("%s:%d:%d", diag.RelativeName(dir, r.Filename), r.Start.Line, r.Start.Column)
}
