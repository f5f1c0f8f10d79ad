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

// Mount is a host path a daemon's container mounts.
type Mount struct {
	HostPath  string `json:"hostPath"`
	Writable  bool   `json:"writable"`
	Container string `json:"container"`
}

// Daemon is what the fleet checks need of one daemon in one environment.
type Daemon struct {
	Family string `json:"family"`
	At     Place  `json:"at"` // where the daemon is declared (or the file, for an API-form file)
	// CPU is the task's cpu, or the sum of its containers'; MemoryHard the task's memory,
	// or the sum of the containers' hard limits where set and reservations elsewhere;
	// MemoryReserved the sum of the containers' reservations.
	CPU            int      `json:"cpu"`
	MemoryHard     int      `json:"memory"`
	MemoryReserved int      `json:"memoryReservation"`
	Ports          []Port   `json:"ports,omitempty"`
	Mounts         []Mount  `json:"hostPaths,omitempty"`
	Privileged     bool     `json:"privileged,omitempty"`
	Capabilities   []string `json:"capabilities,omitempty"`
	PIDMode        string   `json:"pidMode,omitempty"`
	IPCMode        string   `json:"ipcMode,omitempty"`
	// Acknowledged are the warning ids the daemon acknowledges (ignoreWarnings).
	Acknowledged []string `json:"acknowledged,omitempty"`
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
	d := Daemon{At: at, Ports: ports}
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
		name, _ := c.Get("name").Str()
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
				d.Mounts = append(d.Mounts, Mount{cleanPath(p), ro == nil || ro.Kind != node.Bool || !ro.Bool, name})
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

// Check finds what the daemons of environment env clash on: a port two of them listen on,
// a host path two of them mount with one writable, and a budget their sum exceeds.
func Check(env string, daemons []Daemon, budget *Budget) []Finding {
	// Messages do not name env: the diagnostics' contexts do, so that one clash in
	// several environments is one message.
	var out []Finding
	// Ports: one network namespace per instance.
	type owner struct {
		d    *Daemon
		port Port
	}
	seen := map[string]owner{}
	for i := range daemons {
		d := &daemons[i]
		for _, p := range d.Ports {
			key := p.String()
			if prev, ok := seen[key]; ok && prev.d.Family != d.Family {
				out = append(out, Finding{Severity: Error, At: p.At, Path: "listens", Daemons: []string{prev.d.Family, d.Family},
					Message: fmt.Sprintf("%s is taken: %s listens on it too (%s); an environment's daemons run on every instance in one network namespace, so each needs a port of its own", key, prev.d.Family, prev.port.At)})
				continue
			}
			seen[key] = owner{d, p}
		}
	}
	// Host paths: one file system per instance.
	for i := range daemons {
		for j := i + 1; j < len(daemons); j++ {
			a, b := &daemons[i], &daemons[j]
			if a.Family == b.Family {
				continue
			}
			for _, ma := range a.Mounts {
				for _, mb := range b.Mounts {
					if !(ma.Writable || mb.Writable) || !overlaps(ma.HostPath, mb.HostPath) {
						continue
					}
					writer := a.Family
					if !ma.Writable {
						writer = b.Family
					}
					out = append(out, Finding{Severity: Warning, ID: SharedHostPathID, At: b.At, Path: "volumes", Daemons: []string{a.Family, b.Family},
						Message: fmt.Sprintf("%s mounts %s and %s (declared at %s) mounts %s of every instance, and %s writes there: one can change what the other reads; mount them read-only, or give each a path of its own",
							b.Family, mb.HostPath, a.Family, a.At, ma.HostPath, writer)})
				}
			}
		}
	}
	// The budget: one instance's cpu and memory.
	if budget != nil {
		out = append(out, overBudget(env, daemons, budget, "cpu", budget.CPU, func(d Daemon) int { return d.CPU }, "CPU units")...)
		out = append(out, overBudget(env, daemons, budget, "memory", budget.Memory, func(d Daemon) int { return d.MemoryHard }, "MiB")...)
	}
	return out
}

// overlaps reports whether host paths a and b are one, or one holds the other.
func overlaps(a, b string) bool {
	return a == b || a == "/" || b == "/" || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

func overBudget(env string, daemons []Daemon, budget *Budget, what string, limit int, share func(Daemon) int, unit string) []Finding {
	if limit <= 0 {
		return nil
	}
	sorted := slices.Clone(daemons)
	slices.SortStableFunc(sorted, func(a, b Daemon) int { return cmp.Or(cmp.Compare(share(b), share(a)), cmp.Compare(a.Family, b.Family)) })
	total := 0
	var parts, families []string
	for _, d := range sorted {
		total += share(d)
		parts = append(parts, fmt.Sprintf("%s %d", d.Family, share(d)))
		families = append(families, d.Family)
	}
	if total <= limit {
		return nil
	}
	in := ""
	if env != "" {
		in = " of " + env
	}
	return []Finding{{Severity: Error, At: budget.At, Path: "budget." + what, Daemons: families,
		Message: fmt.Sprintf("the daemons%s take %d %s on every instance, over the %s budget of %d: %s", in, total, unit, what, limit, strings.Join(parts, ", "))}}
}
