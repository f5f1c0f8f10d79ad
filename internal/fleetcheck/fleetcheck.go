// Package fleetcheck checks the daemons of one environment together, as they run: every
// daemon of an environment runs on every instance, side by side, in one network
// namespace, on one set of host paths, within one cpu and memory budget. It reads facts
// that the stages before it drew from each daemon (its ports, its mounts, its size) and
// knows nothing of specs or the schema: a run gives it every daemon of an environment,
// from every spec, and it finds the clashes no check of one daemon can see.
package fleetcheck

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/daemongen/daemongen/internal/node"
)

// Place is a position in a spec file.
type Place struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (p Place) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Port is a port a daemon listens on.
type Port struct {
	Number   int    `json:"port"`
	Protocol string `json:"protocol"` // tcp or udp
	At       Place  `json:"at"`
}

func (p Port) String() string { return strconv.Itoa(p.Number) + "/" + p.Protocol }

// Mount is a host path a daemon mounts.
type Mount struct {
	HostPath string `json:"hostPath"`
	Writable bool   `json:"writable"`
}

// Daemon is what the fleet checks need of one daemon in one environment.
type Daemon struct {
	Family string `json:"family"`
	At     Place  `json:"at"` // where the daemon is declared (or the file, for an API-form file)
	// CPU is the task's cpu, or the sum of its containers'; MemoryHard the task's memory,
	// or the sum of the containers' hard limits where set and reservations elsewhere.
	CPU        int     `json:"cpu"`
	MemoryHard int     `json:"memory"`
	Ports      []Port  `json:"ports,omitempty"`
	Mounts     []Mount `json:"hostPaths,omitempty"`
	// Acknowledged are the warning ids the daemon acknowledges (ignoreWarnings).
	Acknowledged []string `json:"acknowledged,omitempty"`
	// Shown is what only the report shows; a run that prints no report keeps none of it.
	*Shown
}

// Shown is what daemongen fleet shows of a daemon beyond what the checks read.
type Shown struct {
	MemoryReserved int      `json:"memoryReservation"`
	Privileged     bool     `json:"privileged,omitempty"`
	Capabilities   []string `json:"capabilities,omitempty"`
	PIDMode        string   `json:"pidMode,omitempty"`
	IPCMode        string   `json:"ipcMode,omitempty"`
	// Violations are the policy rules the daemon breaks; Exceptions those an exception
	// of the policy lets it through.
	Violations []string `json:"policyViolations,omitempty"`
	Exceptions []string `json:"policyExceptions,omitempty"`
}

// Budget is what one instance gives its daemons.
type Budget struct {
	CPU    int   `json:"cpu,omitempty"`
	Memory int   `json:"memory,omitempty"`
	At     Place `json:"at"`
}

// Facts draws a daemon's facts from its definition in API form (cpu, memory, mounts,
// privileges) and the ports its spec says it listens on.
func Facts(def *node.Node, at Place, ports []Port) Daemon {
	d := Daemon{At: at, Ports: ports, Shown: &Shown{}}
	d.Family, _ = def.Get("family").Str()
	volumes := map[string]string{}
	for _, v := range def.Get("volumes").ListElems() {
		name, _ := v.Get("name").Str()
		if p, ok := v.Get("host").Get("sourcePath").Str(); ok {
			volumes[name] = p
		}
	}
	var cpu, hard, reserved int
	for _, c := range def.Get("containerDefinitions").ListElems() {
		n, _ := c.Get("cpu").Int()
		cpu += int(n)
		h, hasHard := c.Get("memory").Int()
		r, _ := c.Get("memoryReservation").Int()
		reserved += int(r)
		if hasHard {
			hard += int(h)
		} else {
			hard += int(r)
		}
		for _, m := range c.Get("mountPoints").ListElems() {
			src, _ := m.Get("sourceVolume").Str()
			if p, ok := volumes[src]; ok {
				ro := m.Get("readOnly")
				d.Mounts = append(d.Mounts, Mount{cleanPath(p), ro == nil || ro.Kind != node.Bool || !ro.Bool})
			}
		}
		if p := c.Get("privileged"); p != nil && p.Kind == node.Bool && p.Bool {
			d.Privileged = true
		}
		for _, cp := range c.Get("linuxParameters").Get("capabilities").Get("add").ListElems() {
			if s, ok := cp.Str(); ok && !slices.Contains(d.Capabilities, s) {
				d.Capabilities = append(d.Capabilities, s)
			}
		}
	}
	d.CPU, d.MemoryHard, d.MemoryReserved = cpu, hard, reserved
	if s, ok := def.Get("cpu").Str(); ok {
		if n, err := strconv.Atoi(s); err == nil {
			d.CPU = n
		}
	}
	if s, ok := def.Get("memory").Str(); ok {
		if n, err := strconv.Atoi(s); err == nil {
			d.MemoryHard = n
		}
	}
	d.PIDMode, _ = def.Get("pidMode").Str()
	d.IPCMode, _ = def.Get("ipcMode").Str()
	slices.Sort(d.Capabilities)
	return d
}

func cleanPath(p string) string {
	if len(p) > 1 {
		return strings.TrimRight(p, "/")
	}
	return p
}

// Severity of a finding.
type Severity int

const (
	Error Severity = iota
	Warning
)

// SharedHostPathID is the id of the warning for a host path two daemons mount, one of
// them writable.
const SharedHostPathID = "shared-host-path"

// Finding is one clash between the daemons of an environment, reported at At.
type Finding struct {
	Severity Severity
	ID       string // a warning's id
	At       Place
	Path     string
	Message  string
	Daemons  []string // the families involved
}

// maxNamed is how many daemons a message names before it says how many more.
const maxNamed = 5

// owner is a daemon as a message names it.
type owner struct {
	family string
	at     Place
}

// pathUse is every daemon that mounts one host path: the first few, to name, and how
// many there are, so that a fleet of thousands mounting /var/log costs one entry.
type pathUse struct {
	named []owner
	count int
}

// writer is a daemon's writable mount, checked against every other mount at the end.
type writer struct {
	owner
	path         string
	acknowledged bool
}

// claim is a daemon's port.
type claim struct {
	family string
	port   Port
}

// share is a daemon's part of the budget.
type share struct {
	family   string
	cpu, mem int32 // an int32 each, as the API's
}

// Env gathers the daemons of one environment as a run makes them, keeping what the checks
// need: the ports, the host paths by path, the writable mounts, and each daemon's share.
// Add each daemon, then Check. It holds a few words per daemon, whatever the fleet.
type Env struct {
	name   string
	ports  map[string][]claim // by port/protocol, every daemon's that listens on it
	paths  map[string]*pathUse
	writes []writer
	shares []share
}

// NewEnv starts gathering the daemons of environment name ("" for none).
func NewEnv(name string) *Env {
	return &Env{name: name, ports: map[string][]claim{}, paths: map[string]*pathUse{}}
}

// Add gathers one daemon.
func (e *Env) Add(d *Daemon) {
	e.shares = append(e.shares, share{d.Family, int32(min(d.CPU, math.MaxInt32)), int32(min(d.MemoryHard, math.MaxInt32))})
	for _, p := range d.Ports {
		key := p.String()
		if !slices.ContainsFunc(e.ports[key], func(c claim) bool { return c.family == d.Family }) {
			e.ports[key] = append(e.ports[key], claim{d.Family, p})
		}
	}
	for _, m := range d.Mounts {
		u := e.paths[m.HostPath]
		if u == nil {
			u = &pathUse{}
			e.paths[m.HostPath] = u
		}
		u.count++
		if len(u.named) <= maxNamed && !slices.ContainsFunc(u.named, func(o owner) bool { return o.family == d.Family }) {
			u.named = append(u.named, owner{d.Family, d.At})
		}
		if m.Writable {
			e.writes = append(e.writes, writer{owner{d.Family, d.At}, m.HostPath, slices.Contains(d.Acknowledged, SharedHostPathID)})
		}
	}
}

// Check finds what the environment's daemons clash on: a port two of them listen on
// (found as they were added), a host path one writes and another mounts too (the same
// path, one above or one below it), and a budget their sum exceeds. Messages do not name
// the environment: the caller's contexts do, so that one clash in several environments
// is one message.
func (e *Env) Check(budget *Budget) []Finding {
	out := e.portClashes()
	out = append(out, e.sharedHostPaths()...)
	if budget != nil {
		out = append(out, e.overBudget(budget, "cpu", budget.CPU, func(s share) int { return int(s.cpu) }, "CPU units")...)
		out = append(out, e.overBudget(budget, "memory", budget.Memory, func(s share) int { return int(s.mem) }, "MiB")...)
	}
	return out
}

// portClashes reports each port two daemons listen on, at every daemon's but the first
// in order of family, whatever order the run made them in.
func (e *Env) portClashes() (out []Finding) {
	for _, key := range slices.Sorted(maps.Keys(e.ports)) {
		claims := e.ports[key]
		if len(claims) < 2 {
			continue
		}
		slices.SortFunc(claims, func(a, b claim) int { return strings.Compare(a.family, b.family) })
		first := claims[0]
		for _, c := range claims[1:] {
			out = append(out, Finding{Severity: Error, At: c.port.At, Path: "listens", Daemons: []string{first.family, c.family},
				Message: fmt.Sprintf("%s is taken: %s listens on it too (%s); an environment's daemons run on every instance in one network namespace, so each needs a port of its own", key, first.family, first.port.At)})
		}
	}
	return out
}

// sharedHostPaths reports each writable mount of a host path that another daemon mounts
// too: one warning per writer, at its declaration, naming the others. A writer that
// acknowledges shared-host-path is not reported, nor named by another's warning.
func (e *Env) sharedHostPaths() (out []Finding) {
	if len(e.writes) == 0 {
		return nil
	}
	paths := make([]string, 0, len(e.paths))
	for p := range e.paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, w := range e.writes {
		if w.acknowledged {
			continue
		}
		var others []string
		count := 0
		note := func(p string) {
			u := e.paths[p]
			if u == nil {
				return
			}
			for _, o := range u.named {
				if o.family != w.family && !slices.ContainsFunc(others, func(s string) bool { return strings.HasPrefix(s, o.family+" (") }) {
					others = append(others, fmt.Sprintf("%s (%s at %s)", o.family, p, o.at))
				}
			}
			count += u.count
			if slices.ContainsFunc(u.named, func(o owner) bool { return o.family == w.family }) {
				count-- // the writer itself
			}
		}
		// The same path and the folders above it.
		for p := w.path; ; p = parentPath(p) {
			note(p)
			if p == "/" || p == "" {
				break
			}
		}
		// The paths below it: after it in order, starting with it and a slash.
		prefix := strings.TrimSuffix(w.path, "/") + "/"
		for k, _ := slices.BinarySearch(paths, prefix); k < len(paths) && strings.HasPrefix(paths[k], prefix); k++ {
			note(paths[k])
		}
		if len(others) == 0 {
			continue
		}
		slices.Sort(others)
		families := []string{w.family}
		for _, o := range others {
			families = append(families, o[:strings.Index(o, " (")])
		}
		shown, more := others, ""
		if len(others) > maxNamed {
			shown = others[:maxNamed]
		}
		if count > len(shown) {
			more = fmt.Sprintf(" and %d more", count-len(shown))
		}
		verb := "mount"
		if count == 1 {
			verb = "mounts"
		}
		out = append(out, Finding{Severity: Warning, ID: SharedHostPathID, At: w.at, Path: "volumes", Daemons: families,
			Message: fmt.Sprintf("%s writes the host path %s of every instance, which %s%s %s too: one can change what the other reads; mount it read-only, or give each daemon a path of its own",
				w.family, w.path, strings.Join(shown, ", "), more, verb)})
	}
	return out
}

// parentPath returns the folder above the host path p ("/" above "/var").
func parentPath(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func (e *Env) overBudget(budget *Budget, what string, limit int, of func(share) int, unit string) []Finding {
	if limit <= 0 {
		return nil
	}
	total := 0
	for _, s := range e.shares {
		total += of(s)
	}
	if total <= limit {
		return nil
	}
	sorted := slices.Clone(e.shares)
	slices.SortStableFunc(sorted, func(a, b share) int { return cmp.Or(cmp.Compare(of(b), of(a)), cmp.Compare(a.family, b.family)) })
	var parts, families []string
	for i, s := range sorted {
		families = append(families, s.family)
		if i < 2*maxNamed {
			parts = append(parts, fmt.Sprintf("%s %d", s.family, of(s)))
		}
	}
	if len(sorted) > 2*maxNamed {
		parts = append(parts, fmt.Sprintf("and %d more", len(sorted)-2*maxNamed))
	}
	in := ""
	if e.name != "" {
		in = " of " + e.name
	}
	return []Finding{{Severity: Error, At: budget.At, Path: "budget." + what, Daemons: families,
		Message: fmt.Sprintf("the daemons%s take %d %s on every instance, over the %s budget of %d: %s", in, total, unit, what, limit, strings.Join(parts, ", "))}}
}
