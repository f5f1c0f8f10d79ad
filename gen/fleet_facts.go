package gen

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/spec"
)

// placeRange turns a fleetcheck.Place into a diagnostic's subject.
func placeRange(p fleetcheck.Place) *hcl.Range {
	start := hcl.Pos{Line: p.Line, Column: p.Column}
	return &hcl.Range{Filename: p.File, Start: start, End: start}
}

// budgetOf returns the budget of environment env in a spec's root: the environment's
// defaults' budget, or the spec's defaults'.
func budgetOf(root *Node, env string) *fleetcheck.Budget {
	top := lang.Top{Node: root}
	var n *Node
	if env != "" {
		n = top.Environment(env).Defaults().Get(lang.FieldBudget)
	}
	if n == nil {
		n = top.Defaults().Get(lang.FieldBudget)
	}
	if n == nil {
		return nil
	}
	b, ds := spec.ReadBudget(n, lang.FieldBudget)
	if len(ds) > 0 {
		return nil // reported by the spec's check
	}
	return b
}

// daemonFacts draws the fleet checks' facts of a unit from its API form and its layers.
func daemonFacts(u *unit, api, daemon *Node, ignored []string) *FleetDaemon {
	at := u.at
	if f := api.Get("family"); f != nil && f.Pos.IsValid() && !u.raw {
		at = f.Pos
	}
	var ports []fleetcheck.Port
	if daemon != nil {
		ports, _ = spec.ListenedPorts(daemon.Get(lang.FieldListens), lang.FieldListens)
	}
	d := fleetcheck.Facts(api, spec.Place(at), ports)
	if u.raw {
		d.At = spec.Place(u.at)
	}
	d.Acknowledged = ignored
	return &d
}

// fleetRun gathers, as a run goes, every daemon of each environment and each
// environment's budget, and checks them together at the end.
type fleetRun struct {
	envs   map[string]*fleetEnv
	diags  hcl.Diagnostics
	report bool // keep every daemon's facts, for daemongen fleet
	// generated are the families of each environment, kept under a policy only, to tell
	// an exception that lets nothing through from one whose family the run did not make.
	generated map[string]map[string]bool
}

// fleetEnv is what a run gathers of one environment.
type fleetEnv struct {
	checks  *fleetcheck.Env
	budget  *FleetBudget
	daemons []FleetDaemon // only when reporting
}

func newFleetRun(report, families bool) *fleetRun {
	f := &fleetRun{envs: map[string]*fleetEnv{}, report: report}
	if families {
		f.generated = map[string]map[string]bool{}
	}
	return f
}

// made reports whether the run made family in env ("" for any environment).
func (f *fleetRun) made(env, family string) bool {
	for name, fams := range f.generated {
		if (env == "" || name == env) && fams[family] {
			return true
		}
	}
	return false
}

func (f *fleetRun) env(env string) *fleetEnv {
	e, ok := f.envs[env]
	if !ok {
		e = &fleetEnv{checks: fleetcheck.NewEnv(env)}
		f.envs[env] = e
	}
	return e
}

// add gathers a daemon of env: what the checks need always, the whole of it for a report.
func (f *fleetRun) add(env string, d *FleetDaemon) {
	if d == nil {
		return
	}
	e := f.env(env)
	e.checks.Add(d)
	if f.generated != nil {
		if f.generated[env] == nil {
			f.generated[env] = map[string]bool{}
		}
		f.generated[env][d.Family] = true
	}
	if f.report {
		kept := *d
		if kept.Shown == nil {
			kept.Shown = &fleetcheck.Shown{}
		}
		e.daemons = append(e.daemons, kept)
	}
}

// setBudget records env's budget; two specs that give one environment two budgets are an
// error naming both.
func (f *fleetRun) setBudget(env string, b *FleetBudget) {
	if b == nil {
		return
	}
	e := f.env(env)
	switch {
	case e.budget == nil:
		e.budget = b
	case e.budget.CPU != b.CPU || e.budget.Memory != b.Memory: // the same budget twice is one
		f.diags = append(f.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: lang.FieldBudget, Subject: placeRange(b.At),
			Detail: fmt.Sprintf("a second budget for %s, other than the one at %s: an environment has one budget", envWords(env), e.budget.At)})
	}
}

func envWords(env string) string {
	if env == "" {
		return "the daemons"
	}
	return "the environment " + env
}

// check runs the fleet checks on every environment, in order, and returns what they find
// and, for a report, the environments.
func (f *fleetRun) check() (hcl.Diagnostics, []FleetEnv) {
	diags := f.diags
	var envs []FleetEnv
	for _, name := range slices.Sorted(maps.Keys(f.envs)) {
		e := f.envs[name]
		for _, x := range e.checks.Check(e.budget) {
			sev := hcl.DiagError
			if x.Severity == fleetcheck.Warning {
				sev = hcl.DiagWarning
			}
			d := &hcl.Diagnostic{Severity: sev, Summary: x.Path, Detail: x.Message, Subject: placeRange(x.At)}
			if x.ID != "" {
				diag.ExtraOf(d).WarningID = x.ID
			}
			for _, fam := range x.Daemons {
				if name != "" {
					fam += "/" + name
				}
				diag.ExtraOf(d).Contexts = append(diag.ExtraOf(d).Contexts, fam)
			}
			slices.Sort(diag.ExtraOf(d).Contexts)
			diags = append(diags, d)
		}
		slices.SortStableFunc(e.daemons, func(a, b FleetDaemon) int { return strings.Compare(a.Family, b.Family) })
		envs = append(envs, FleetEnv{Env: name, Daemons: e.daemons, Budget: e.budget})
	}
	return diags, envs
}
