// Package gen turns daemon specs (CUE, HCL or API-form JSON) into register-ready ECS daemon
// task definitions. It returns files as data and writes nothing: writing, checking and
// printing belong to the command.
package gen

import (
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/policy"
)

// Config says what to generate.
type Config struct {
	// Dir is the directory relative paths and diagnostics are relative to; the working
	// directory when empty.
	Dir string
	// Paths are spec files and directories.
	Paths []string
	// Env selects one environment; all declared environments when empty.
	Env string
	// Inputs are the values of the HCL specs' variables.
	Inputs hclspec.Inputs
	// Tags are the values of CUE specs' @tag attributes, as key=value (cue's -t). The tag
	// env is daemongen's: it carries each environment's name.
	Tags []string
	// Progress, when set, is called after each daemon is checked, with the number done
	// and the total. Calls do not overlap.
	Progress func(done, total int)
	// CheckOnly is set when nothing will be written (vet): two API-form files of one family
	// are then two revisions to check, not two outputs at one path.
	CheckOnly bool
	// Strict turns every warning that the specs do not acknowledge into an error.
	Strict bool
	// Cache, when not nil, remembers the daemons that passed their check (see [Cache]).
	Cache *cache.Cache
	// Evaluating, when set, is called as each evaluation of a source begins, with the
	// source's folder or files relative to Dir: a command that stops a run taking too
	// much time or memory can say where it was.
	Evaluating func(source string)
	// Fleet, when set, receives at the end of a run every environment's daemons and
	// budget, as the checks across an environment saw them (daemongen fleet).
	Fleet func([]FleetEnv)
	// Policies are the organisation's policy files and folders; without them, the
	// PolicyFolder of the repository or CUE module Dir is in, if it has one.
	Policies []string
	// Today is the date (YYYY-MM-DD) policy exceptions expire by; the current date in UTC
	// when empty. Nothing else depends on the date.
	Today string

	policies *policy.Set // loaded by Stream
}

// UsageError is a mistake on the command line rather than in a spec, such as an
// environment that no spec declares.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// unit is one daemon task definition to produce: a daemon of a spec in one environment,
// or an API-form file.
type unit struct {
	root *Node // the spec's root, or the API-form daemon itself
	key  string
	env  string
	raw  bool
	// at is where the daemon is declared (the file, for an API-form file).
	at token.Pos
	// out is the output file, relative to the output folder; set once the family is known.
	out string
	// writes is set when the output is a file to write (not for vet): its name must suit
	// every file system.
	writes bool
	// familyAt is where the daemon's family is set, once known: the output's name comes
	// from there, so a conflict between two outputs is reported there.
	familyAt token.Pos
	// policies are the run's, checked on the unit's API form on the day today.
	policies *policy.Set
	today    string
}

func (u *unit) context() string {
	switch {
	case u.raw:
		return ""
	case u.env == "":
		return u.key
	default:
		return u.key + "/" + u.env
	}
}

// Output is one generated file.
type Output struct {
	// Name is the file's path relative to the output folder, with slashes:
	// FAMILY.json, or ENV/FAMILY.json when the specs declare environments.
	Name string
	// Data is the register-ready JSON.
	Data []byte
	// Sensitive are the paths of the values that derive from sensitive HCL variables, for
	// [RedactDiff].
	Sensitive [][]any
	// Origin is where in the specs the output comes from: where its daemon's family is
	// set, or is declared (the start of an API-form file), for messages about the output.
	Origin hcl.Range
}

// FleetDaemon and FleetBudget are what the checks across an environment's daemons read of
// each daemon, and what an instance gives them (see internal/fleetcheck).
type (
	FleetDaemon = fleetcheck.Daemon
	FleetBudget = fleetcheck.Budget
)

// FleetEnv is one environment of a run: its daemons, from every spec, and its budget.
type FleetEnv struct {
	Env     string
	Daemons []FleetDaemon
	Budget  *FleetBudget
}
