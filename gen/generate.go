// Package gen turns daemon specs (CUE, HCL or API-form JSON) into register-ready ECS daemon
// task definitions. It returns files as data and writes nothing: writing, checking and
// printing belong to the command.
package gen

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/daemongen/daemongen/internal/load"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/check"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/policy"
	"github.com/daemongen/daemongen/internal/spec"
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

// Generate evaluates the specs and returns the output files, keyed by their path relative
// to the output folder (see [Output.Name]). When any daemon has an error, files is nil;
// diags then lists every error and warning, sorted. err is a [*UsageError] for mistakes on
// the command line. Generate holds every output at once; [Stream] hands them over one by
// one.
func Generate(cfg Config) (files map[string][]byte, diags hcl.Diagnostics, err error) {
	files = map[string][]byte{}
	diags, err = Stream(cfg, func(o Output) error {
		files[o.Name] = o.Data
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		files = nil
	}
	return files, diags, nil
}

// streamChunk is how many units are checked before their outputs are handed over: enough
// to keep every worker busy, few enough that a run holds little more than one source's
// evaluation.
const streamChunk = 64

// Stream evaluates the specs as [Generate] does and calls emit with each output as soon as
// it is checked, in an order that depends only on the input. It returns every error and
// warning, sorted; an error of emit stops the run and is returned as err.
//
// Outputs are emitted before the whole run is checked: when diags has errors, the caller
// must discard what it received. What a run holds at once is one source in one environment
// (its evaluation, and the outputs of one chunk of its daemons, or of the whole source when
// the cache is to remember it), whatever the number of sources: sources are evaluated one
// after the other, each for every environment of the run, and released. Beyond that, a
// run holds a few dozen bytes per output, for the conflict check.
func Stream(cfg Config, emit func(Output) error) (diags hcl.Diagnostics, err error) {
	if cfg.Dir == "" {
		if cfg.Dir, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	if cfg.Inputs.Secrets == nil {
		cfg.Inputs.Secrets = &hclspec.Secrets{} // every message is kept free of them
	}
	if cfg.Today == "" {
		cfg.Today = time.Now().UTC().Format(time.DateOnly)
	}
	var policyProblems hcl.Diagnostics
	if cfg.policies, policyProblems = loadPolicies(cfg); policyProblems.HasErrors() {
		return relativize(diag.Normalize(policyProblems), cfg.Dir), nil // before any daemon is checked
	}
	p, diags, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	r := &streamRun{cfg: cfg, p: p, emit: emit, diags: diags, where: newOutputRegistry(), pool: &evaluatorPool{},
		fleet: newFleetRun(cfg.Fleet != nil, cfg.policies != nil)}
	for i := range p.all {
		r.specNames = append(r.specNames, strings.Join(p.all[i].src.Names, ", "))
	}
	for i := range p.all {
		if err := r.source(i); err != nil {
			return nil, err
		}
		p.all[i] = loaded{} // released: the next source's evaluation takes its place
	}
	r.acrossTheRun()
	if cfg.Cache != nil {
		cfg.Cache.Trim()
	}
	if cfg.Strict {
		for _, d := range r.diags {
			if d.Severity == hcl.DiagWarning {
				d.Severity = hcl.DiagError
			}
		}
	}
	return redact(relativize(diag.Normalize(r.diags), cfg.Dir), cfg.Inputs.Secrets), nil
}

// streamRun is one run of Stream: what it gathers as it goes through the sources, for the
// checks that span them at the end.
type streamRun struct {
	cfg   Config
	p     *planned
	emit  func(Output) error
	diags hcl.Diagnostics
	where *outputRegistry
	// conflicts are the outputs generated twice, reported together at the end, with the
	// names of the specs (by index) for the message.
	conflicts []conflict
	specNames []string
	fleet     *fleetRun // every environment's daemons, checked together at the end
	pool      *evaluatorPool
	// done and known count the units checked and known, for progress.
	done, known int
}

// add hands one output over, unless another unit made it already.
func (r *streamRun) add(name string, data []byte, sensitive [][]any, by producer) error {
	if prev, dup := r.where.first(name); dup && !(r.cfg.CheckOnly && (by.raw || prev.raw)) {
		r.conflicts = append(r.conflicts, conflict{name, prev, by})
		return nil
	}
	r.where.add(name, by)
	return r.emit(Output{Name: name, Data: data, Sensitive: sensitive, Origin: *diag.PositionRange(by.at)})
}

// source produces the outputs of source i: replayed from its record, when the cache has
// one for every environment of the run, or made unit by unit.
func (r *streamRun) source(i int) error {
	l := &r.p.all[i]
	if l.record != nil {
		if replayed, err := r.replay(i); replayed || err != nil {
			return err
		}
		// The run needs an environment the cache has no outputs for.
		key := l.key
		fresh, ds, ok := checkSource(l.src)
		r.diags = append(r.diags, ds...)
		if !ok {
			return nil
		}
		*l = fresh
		l.key = key
	}
	// A source the cache may remember is remembered whole, when nothing about it was
	// reported; its daemons are not remembered one by one, but a unit whose check key the
	// source's latest record holds takes its output from there. The record holds the
	// source's outputs until the source is done.
	cfg := r.cfg
	reuse := &cache.Known{Cache: cfg.Cache, PerDaemon: true}
	var record *cache.Record
	before := len(r.diags)
	if cfg.Cache != nil && l.key != "" {
		record = &cache.Record{Envs: l.envs}
		reuse = &cache.Known{Cache: cfg.Cache, Previous: cfg.Cache.LatestOutputs(l.src.Names, cfg.Tags)}
	}
	var shared *Node // the source's evaluation, when it is one for every environment
	for _, env := range r.p.envs {
		units, ds := l.units(env, &shared)
		r.diags = append(r.diags, ds...)
		if l.root != nil && !l.raw {
			b := budgetOf(l.root, env)
			r.fleet.setBudget(env, b)
			record.SetBudget(env, b)
		}
		for _, u := range units {
			u.writes = !cfg.CheckOnly
			u.policies, u.today = cfg.policies, cfg.Today
		}
		r.known += len(units)
		for len(units) > 0 {
			chunk := units[:min(len(units), streamChunk)]
			units = units[len(chunk):]
			if err := r.chunk(i, env, chunk, reuse, record); err != nil {
				return err
			}
		}
	}
	if record != nil && l.clean && len(r.diags) == before {
		cfg.Cache.PutRecord(l.key, record, l.src.Names, cfg.Tags)
	}
	return nil
}

// chunk produces one chunk of source i's units in env and hands their outputs over.
func (r *streamRun) chunk(i int, env string, chunk []*unit, reuse *cache.Known, record *cache.Record) error {
	var progress func(n, total int)
	if r.cfg.Progress != nil {
		from, total := r.done, r.known
		progress = func(n, _ int) { r.cfg.Progress(from+n, total) }
	}
	outputs, unitDiags := run(chunk, r.pool, progress, reuse)
	r.done += len(chunk)
	r.diags = append(r.diags, unitDiags...)
	for k, u := range chunk {
		if outputs[k] == nil {
			continue
		}
		if outputs[k].json == nil { // a daemon with errors, for the fleet report only
			r.fleet.add(env, outputs[k].facts)
			continue
		}
		by := u.producer()
		by.spec = i
		if err := r.add(u.out, outputs[k].json, outputs[k].sensitive, by); err != nil {
			return err
		}
		record.Add(env, recorded(env, u.out, outputs[k], u.producer()))
		r.fleet.add(env, outputs[k].facts)
	}
	return nil
}

// replay hands over source i's outputs from its cache record, with the facts the fleet
// checks read; replayed is false when the record lacks one of the run's environments.
func (r *streamRun) replay(i int) (replayed bool, err error) {
	l := &r.p.all[i]
	outputs, ok := l.record.Outputs(r.p.envs, l.envs)
	if !ok {
		return false, nil
	}
	for _, o := range outputs {
		by := producerOf(o)
		by.spec = i
		if err := r.add(o.Name, []byte(o.Data), nil, by); err != nil {
			return true, err
		}
		r.fleet.add(o.Env, o.Facts)
	}
	for env, b := range l.record.Budgets {
		if slices.Contains(r.p.envs, env) {
			r.fleet.setBudget(env, b)
		}
	}
	r.done += len(outputs)
	r.known += len(outputs)
	if r.cfg.Progress != nil {
		r.cfg.Progress(r.done, r.known)
	}
	r.cfg.Cache.Replayed()
	return true, nil
}

// acrossTheRun reports what only the whole run shows: outputs two units make, names that
// differ only in case, the clashes between an environment's daemons, and the policy's
// exceptions that let nothing through; and hands the fleet to cfg.Fleet.
func (r *streamRun) acrossTheRun() {
	r.diags = append(r.diags, conflictDiags(r.conflicts, r.specNames)...)
	for _, pair := range r.where.caseTwins() {
		prev, _ := r.where.first(pair[0])
		by, _ := r.where.first(pair[1])
		if r.cfg.CheckOnly && (by.raw || prev.raw) {
			continue
		}
		r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "family", Subject: diag.PositionRange(by.at),
			Detail: fmt.Sprintf("%s and %s differ only in case: by %s and by %s; a file system that ignores case (macOS, Windows) cannot hold both, so the set cannot be checked out there", pair[1], pair[0], by, prev)})
	}
	fleetDiags, envs := r.fleet.check()
	r.diags = append(r.diags, fleetDiags...)
	r.diags = append(r.diags, unusedExceptions(r.cfg.policies, r.fleet.made)...)
	if r.cfg.Fleet != nil {
		r.cfg.Fleet(envs)
	}
}

// conflict is an output that a second unit makes too.
type conflict struct {
	name     string
	prev, by producer
}

// conflictDiags reports the outputs generated twice. Those that two specs generate alike
// (the same fleet given in CUE and in HCL, say) are one diagnostic naming both specs and
// how many outputs collide; a lone conflict names both daemons and their lines.
func conflictDiags(conflicts []conflict, specNames []string) (diags hcl.Diagnostics) {
	type pair struct{ prev, by int }
	groups := map[pair][]conflict{}
	var order []pair
	for _, c := range conflicts {
		p := pair{c.prev.spec, c.by.spec}
		if groups[p] == nil {
			order = append(order, p)
		}
		groups[p] = append(groups[p], c)
	}
	for _, p := range order {
		cs := groups[p]
		first := cs[0]
		if len(cs) == 1 || p.prev == p.by {
			for _, c := range cs {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "family", Subject: diag.PositionRange(c.by.at),
					Detail: fmt.Sprintf("%s is generated twice: by %s and by %s", c.name, c.prev, c.by)})
			}
			continue
		}
		var names []string
		for _, c := range cs {
			names = append(names, c.name)
		}
		slices.Sort(names)
		list := strings.Join(names, ", ")
		if len(names) > diag.MaxContexts {
			list = fmt.Sprintf("%s and %d more", strings.Join(names[:diag.MaxContexts], ", "), len(names)-diag.MaxContexts)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "family", Subject: diag.PositionRange(first.by.at),
			Detail: fmt.Sprintf("%d outputs are generated twice, by the specs %s and %s (is one fleet given twice?): %s; the first by %s and by %s",
				len(cs), specNames[p.prev], specNames[p.by], list, first.prev, first.by)})
	}
	return diags
}

// redact replaces the text of every sensitive value in diags' messages (see
// [hclspec.Secrets]): a message about a value computed from a sensitive variable, a key,
// a function's argument, names the value and never shows it.
func redact(diags hcl.Diagnostics, secrets *hclspec.Secrets) hcl.Diagnostics {
	for _, d := range diags {
		d.Summary, d.Detail = secrets.Redact(d.Summary), secrets.Redact(d.Detail)
	}
	return diags
}

// producer names what made an output, for the message when two units make the same one.
// It keeps no root and no token.Pos, so that a source's evaluation is released when the
// run moves on: a token.Pos keeps its file's parse alive (10 MB for every 1,000 outputs of
// the fleet benchmark, measured before this was a token.Position).
func (u *unit) producer() producer {
	at := u.at
	if u.familyAt.IsValid() && !u.raw {
		at = u.familyAt
	}
	return producer{u.key, u.raw, at.Position(), 0}
}

// producer is what made an output: a daemon of a spec, or an API-form file.
type producer struct {
	key string
	raw bool
	at  token.Position
	// spec is the index of the source among the run's, set by the run.
	spec int
}

// recorded is what a source's cache record keeps of one output, name, of environment env.
func recorded(env, name string, o *output, by producer) cache.RecordedOutput {
	return cache.RecordedOutput{
		Name: name, Data: string(o.json), Key: by.key, Raw: by.raw,
		File: by.at.Filename, Offset: by.at.Offset, Line: by.at.Line, Column: by.at.Column,
		Check: o.check, Env: env, Facts: o.facts,
	}
}

// producerOf is the producer of a recorded output, for the messages of a replayed run.
func producerOf(o cache.RecordedOutput) producer {
	return producer{o.Key, o.Raw, token.Position{Filename: o.File, Offset: o.Offset, Line: o.Line, Column: o.Column}, 0}
}

func (p producer) String() string {
	name := p.key
	if p.raw {
		name = "the file"
	}
	return fmt.Sprintf("%s at %s:%d:%d", name, p.at.Filename, p.at.Line, p.at.Column)
}

// outputRegistry remembers what made each output of a run, for the message when another
// unit makes it too. A run holds one entry per output, so an entry is small: an index in
// the map, and a line, a column and a file number beside the producer's key.
type outputRegistry struct {
	index     map[string]int32 // output name -> entry
	entries   []registered
	files     []string // the file names entries refer to
	fileIndex map[string]int32
}

type registered struct {
	key          string
	line, column int32
	file         int32
	spec         int32
	raw          bool
}

func newOutputRegistry() *outputRegistry {
	return &outputRegistry{index: map[string]int32{}, fileIndex: map[string]int32{}}
}

// add records that p made the output name, unless something made it already.
func (r *outputRegistry) add(name string, p producer) {
	if _, ok := r.index[name]; ok {
		return
	}
	file, ok := r.fileIndex[p.at.Filename]
	if !ok {
		file = int32(len(r.files))
		r.files = append(r.files, p.at.Filename)
		r.fileIndex[p.at.Filename] = file
	}
	r.index[name] = int32(len(r.entries))
	r.entries = append(r.entries, registered{p.key, int32(p.at.Line), int32(p.at.Column), file, int32(p.spec), p.raw})
}

// first returns what made the output name first.
// caseTwins returns the pairs of outputs whose names differ only in case, the one made
// first first. It sorts the names once, at the end of a run, rather than keep a second
// index of them through it.
func (r *outputRegistry) caseTwins() (pairs [][2]string) {
	names := slices.SortedFunc(maps.Keys(r.index), func(a, b string) int {
		return cmp.Or(strings.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(r.index[a], r.index[b]))
	})
	for i := 1; i < len(names); i++ {
		if strings.EqualFold(names[i-1], names[i]) && names[i-1] != names[i] {
			pairs = append(pairs, [2]string{names[i-1], names[i]})
		}
	}
	return pairs
}

func (r *outputRegistry) first(name string) (producer, bool) {
	i, ok := r.index[name]
	if !ok {
		return producer{}, false
	}
	e := r.entries[i]
	return producer{e.key, e.raw, token.Position{Filename: r.files[e.file], Line: int(e.line), Column: int(e.column)}, int(e.spec)}, true
}

// relativize writes the file names inside messages relative to dir, as the positions are.
func relativize(diags hcl.Diagnostics, dir string) hcl.Diagnostics {
	prefix := filepath.ToSlash(dir) + "/"
	for _, d := range diags {
		d.Detail = strings.ReplaceAll(d.Detail, prefix, "")
		if d.Subject != nil {
			d.Subject.Filename = diag.RelativeName(dir, d.Subject.Filename)
		}
	}
	return diags
}

// loaded is one source, checked: what a run needs of it before it evaluates it for each
// environment. It keeps no evaluation, so that a run holds one source's at a time.
type loaded struct {
	src  *load.Source
	envs []string
	// root is the evaluation its latest units came from, for what the run reads of the
	// spec beside its daemons (an environment's budget); released with the source.
	root *Node
	// raw is set for a daemon task definition in API form: a JSON file, or a CUE file
	// that holds one instead of a spec.
	raw bool
	// broken is set when the source has errors that no daemon check should repeat: a spec
	// whose structure is wrong (every check of a daemon built from it would only repeat
	// them), or a JSON file that is not a daemon task definition.
	broken bool
	// clean is set when checking the source found nothing to report.
	clean bool
	// key is the source's key in the cache ("" when it cannot be cached: see
	// [source.inputKey]), and record what the cache remembers of it.
	key    string
	record *cache.Record
}

// planned is what a run generates: the sources, checked, and the environments.
type planned struct {
	all  []loaded
	envs []string
}

// plan checks the sources and decides the environments of a run. Each source's daemons
// are made by [loaded.units], one environment at a time, so that a run holds one source's
// evaluation in one environment at once. A JSON file is read only then: it has no
// environments of its own.
func plan(cfg Config) (*planned, hcl.Diagnostics, error) {
	for _, t := range cfg.Tags {
		if key, _, _ := strings.Cut(t, "="); key == load.EnvTag {
			return nil, nil, &UsageError{Msg: "the tag env is set by daemongen to each environment's name; use --env to choose environments"}
		}
	}
	sources, diags := load.Discover(cfg.Dir, cfg.Paths, cfg.Inputs, cfg.Tags)
	if diags.HasErrors() {
		return nil, nil, &UsageError{Msg: diags[0].Detail}
	}
	if cfg.Evaluating != nil {
		for _, s := range sources {
			s.Announce(cfg.Dir, cfg.Evaluating)
		}
	}
	if len(cfg.Inputs.Vars) > 0 || len(cfg.Inputs.VarFiles) > 0 {
		if !slices.ContainsFunc(sources, func(s *load.Source) bool { return s.Language == lang.HCL }) {
			return nil, nil, &UsageError{Msg: "--var and --var-file set the variables of HCL specs, and no HCL spec is given; CUE specs take -t key=value for @tag values"}
		}
	}
	var all []loaded
	runEnvs := map[string]bool{}
	var keptHCL int64 // the bytes of the HCL specs kept parsed
	for _, src := range sources {
		var l loaded
		key, cacheable := "", false
		if cfg.Cache != nil && cfg.policies == nil {
			// Under a policy, each daemon is checked against it on every run (an
			// exception expires by the date): no source is replayed whole.
			key, cacheable = src.InputKey()
			if cacheable && cfg.CheckOnly {
				// vet checks what generate checks, less the output files' names: a
				// record of one serves the other never.
				key = cache.CheckOnlyKey(key)
			}
		}
		if rec := cfg.Cache.GetRecord(key); cacheable && rec != nil {
			// Checked and generated before from these very bytes, cleanly: replayed
			// when its turn comes, unless the run needs an environment it lacks.
			l = loaded{src: src, envs: rec.Envs, record: rec, clean: true}
		} else {
			var ds hcl.Diagnostics
			var ok bool
			l, ds, ok = checkSource(src)
			diags = append(diags, ds...)
			// What the check parsed is read again when the source's turn comes, but for
			// HCL specs up to a budget: HCL's lexer makes a parse cost more than the
			// rest of an HCL spec's evaluation.
			if src.Language == lang.HCL && ok && keptHCL+src.Size <= keepParsedHCL {
				keptHCL += src.Size
			} else {
				src.Release()
			}
			if !ok {
				continue
			}
		}
		if cacheable {
			l.key = key
		}
		for _, e := range l.envs {
			runEnvs[e] = true
		}
		all = append(all, l)
	}
	envs := sortedKeys(runEnvs)
	if cfg.Env != "" {
		if !runEnvs[cfg.Env] {
			msg := fmt.Sprintf("no spec declares the environment %q", cfg.Env)
			if len(envs) == 0 {
				msg += "; the specs declare no environments"
			} else {
				msg += fmt.Sprintf("; declared: %s", strings.Join(envs, ", "))
				if s := diag.Suggest(cfg.Env, envs); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
			}
			return nil, nil, &UsageError{Msg: msg}
		}
		envs = []string{cfg.Env}
	}
	if len(envs) == 0 {
		envs = []string{""}
	}

	return &planned{all: all, envs: envs}, diags, nil
}

// keepParsedHCL is how many bytes of HCL specs a run keeps parsed from their check to
// their evaluation: one spec of the largest size allowed.
const keepParsedHCL = node.MaxFileSize

// checkSource opens and checks a source for a run: its environments, and whether it is
// broken. ok is false for a source that yields nothing at all (one that does not load).
func checkSource(src *load.Source) (l loaded, diags hcl.Diagnostics, ok bool) {
	l = loaded{src: src}
	defer func() { l.clean = len(diags) == 0 }()
	if src.Open != nil {
		if ds := src.Open(); ds.HasErrors() {
			return l, ds, false
		}
	}
	if src.Language == lang.JSON && load.APIFormJSON(src.Path) {
		// Read when its turn comes, so that a run of many files holds one at once.
		l.raw = true
		return l, nil, true
	}
	root, diags := src.Eval("")
	if root == nil {
		return l, diags, false
	}
	if !spec.IsSpec(root) {
		ds := checkAPIFile(root)
		l.raw, l.broken = true, ds.HasErrors()
		return l, append(diags, ds...), true
	}
	if src.Language == lang.JSON && len(node.StructFields(root.Get(lang.SectionDaemons))) == 0 {
		// A JSON file stands alone: as a spec that defines no daemon, it does nothing.
		return l, append(diags, diag.New(hcl.DiagError, root.Pos, "",
			"the file defines no daemon: a JSON input is either one daemon task definition in API form (family, containerDefinitions, ...) or a spec in JSON whose daemons holds at least one daemon")), false
	}
	structural, local := spec.Check(root, src.Params)
	diags = append(diags, structural...)
	diags = append(diags, local...)
	l.broken = structural.HasErrors()
	l.envs = node.Names(node.StructFields(root.Get(lang.SectionEnvironments)))
	if ds := src.EnvDiags(l.envs); len(ds) > 0 {
		diags = append(diags, ds...)
		l.broken = true
	}
	if l.broken && !src.PerEnv {
		// A spec evaluated once: its units are never made, so the names of its daemons'
		// layers are checked here, for every environment, with the structure errors.
		envs := l.envs
		if len(envs) == 0 {
			envs = []string{""}
		}
		for _, env := range envs {
			named, _ := layerNameDiags(root, env)
			diags = append(diags, named...)
		}
	}
	if src.PerEnv && len(l.envs) == 0 && !l.broken {
		diags = append(diags, diag.New(hcl.DiagError, root.Pos, lang.SectionEnvironments,
			"the spec sets env with @tag(env) but declares no environments; add environments: {dev: {}, prod: {}}"))
		l.broken = true
	}
	return l, diags, true
}

// units evaluates the source for environment env ("" for a run without environments)
// and lists its units: each daemon of a spec generated there, or the API-form file. A
// source without environments of its own is generated for every environment; one whose
// evaluation does not depend on the environment is evaluated once, into *shared.
func (l *loaded) units(env string, shared **Node) (units []*unit, diags hcl.Diagnostics) {
	if l.broken || len(l.envs) > 0 && !slices.Contains(l.envs, env) {
		return nil, nil
	}
	root := *shared
	switch {
	case l.src.PerEnv:
		var ds hcl.Diagnostics
		if root, ds = l.src.Eval(env); root == nil {
			return nil, diag.WithContext(ds, env)
		}
		// Each environment's evaluation is checked on its own: an overlay exists only in
		// its environment's evaluation, with @tag(env) and in HCL alike.
		structural, local := spec.Check(root, l.src.Params)
		// A structure error's path names its environment; Normalize merges the same
		// error found in several evaluations.
		diags = append(diags, diag.WithContext(ds, env)...)
		diags = append(diags, slices.Concat(structural, local)...)
		if structural.HasErrors() {
			named, _ := layerNameDiags(root, env)
			return nil, append(diags, named...)
		}
	case root == nil:
		var ds hcl.Diagnostics
		root, ds = l.src.Eval("")
		if l.raw {
			// A spec's evaluation was reported when it was planned; an API-form file may
			// be read here for the first time. Normalize merges what was reported twice.
			diags = append(diags, ds...)
			diags = append(diags, checkAPIFile(root)...)
		}
		if root == nil || diags.HasErrors() {
			l.broken = true
			return nil, diags
		}
		*shared = root
	}
	if l.raw {
		return []*unit{{root: root, env: env, raw: true, at: root.Pos}}, diags
	}
	l.root = root
	named, wrong := layerNameDiags(root, env)
	diags = append(diags, named...)
	for _, d := range node.StructFields(root.Get(lang.SectionDaemons)) {
		group, _ := d.Value.Get("group").Str()
		if l.src.Failed.Reaches(d.Name, group) {
			continue // the front end reported why its value is incomplete
		}
		if !wrong[d.Name] && spec.Enabled(spec.Layers(root, d.Name, env)) {
			units = append(units, &unit{root: root, key: d.Name, env: env, at: d.Value.Pos})
		}
	}
	return units, diags
}

// layerNameDiags runs [spec.CheckLayerNames] on every daemon of a spec's root in env,
// and returns what it finds, each in its daemon's context, and the daemons it finds wrong:
// a daemon with a wrong name in its layers is something else than the spec meant, and its
// own checks would only report knock-on errors. It runs beside the spec's structure check,
// so that a run reports these with the structure errors, all at once.
func layerNameDiags(root *Node, env string) (diags hcl.Diagnostics, wrong map[string]bool) {
	for _, d := range node.StructFields(root.Get(lang.SectionDaemons)) {
		layers := spec.Layers(root, d.Name, env)
		if ds := spec.CheckLayerNames(layers, d.Name, env); len(ds) > 0 {
			diags = append(diags, diag.WithContext(ds, (&unit{key: d.Name, env: env}).context())...)
			if wrong == nil {
				wrong = map[string]bool{}
			}
			wrong[d.Name] = true
		}
	}
	return diags, wrong
}

// checkAPIFile reports a JSON file that is no daemon task definition in API form.
func checkAPIFile(root *Node) hcl.Diagnostics {
	switch d := root.Get("daemonTaskDefinition"); {
	case root == nil:
		return nil
	case root.Kind != Struct:
		return hcl.Diagnostics{diag.New(hcl.DiagError, root.Pos, "",
			fmt.Sprintf("invalid value %s: a daemon task definition is a JSON object", root.Literal()))}
	case d != nil:
		return hcl.Diagnostics{diag.New(hcl.DiagError, d.Pos, "daemonTaskDefinition",
			"this is the output of describe-daemon-task-definition, not register input; turn it into a spec with daemongen import")}
	}
	return nil
}

// allUnits lists the units of every source in every environment. It holds every
// evaluation at once: it serves what looks at a few daemons, never a whole run.
func (p *planned) allUnits() (units []*unit, diags hcl.Diagnostics) {
	for i := range p.all {
		var shared *Node
		for _, env := range p.envs {
			us, ds := p.all[i].units(env, &shared)
			units = append(units, us...)
			diags = append(diags, ds...)
		}
	}
	return units, diags
}

type output struct {
	json      []byte
	sensitive [][]any // the paths of sensitive values
	check     string  // the unit's check key (see [checkKey]), when the run computed it
	facts     *FleetDaemon
}

// windowsReservedID is the id of the warning for a family that names a Windows device.
const windowsReservedID = "windows-reserved-name"

// windowsReserved reports whether a file named family.json names a device on Windows,
// whatever its case.
func windowsReserved(family string) bool {
	switch base, _, _ := strings.Cut(strings.ToUpper(family), "."); base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	case "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}

// maxFileName is the longest file name, in bytes, that common file systems allow.
const maxFileName = 255

// evaluatorPool keeps the evaluators of a run between its batches of units, so that each
// worker does not compile the schema again.
type evaluatorPool struct {
	mu   sync.Mutex
	free []*check.Evaluator
}

func (p *evaluatorPool) get() *check.Evaluator {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		e := p.free[n-1]
		p.free = p.free[:n-1]
		return e
	}
	return check.NewEvaluator()
}

func (p *evaluatorPool) put(e *check.Evaluator) {
	p.mu.Lock()
	p.free = append(p.free, e)
	p.mu.Unlock()
}

// run checks and renders the units on a pool of workers, one evaluator each, taken from
// pool. Results come back in the units' order, whatever order the workers finish in.
func run(units []*unit, pool *evaluatorPool, progress func(done, total int), known *cache.Known) ([]*output, hcl.Diagnostics) {
	outputs := make([]*output, len(units))
	unitDiags := make([]hcl.Diagnostics, len(units))
	work := make(chan int)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		done    int
		crashed any
	)
	for range min(runtime.GOMAXPROCS(0), max(len(units), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic is a bug: it is raised again in the caller's goroutine, where the
			// command reports it, rather than ending the process from a worker.
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					crashed = fmt.Sprintf("%v\n%s", v, debug.Stack())
					mu.Unlock()
					for range work {
					}
				}
			}()
			var ev *check.Evaluator
			evaluator := func() *check.Evaluator {
				if ev == nil {
					ev = pool.get()
				}
				return ev
			}
			defer func() {
				if ev != nil {
					pool.put(ev)
				}
			}()
			for i := range work {
				outputs[i], unitDiags[i] = produce(evaluator, units[i], known)
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(units))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range units {
		work <- i
	}
	close(work)
	wg.Wait()
	if crashed != nil {
		panic(crashed)
	}
	var diags hcl.Diagnostics
	for i, ds := range unitDiags {
		diags = append(diags, diag.WithContext(ds, units[i].context())...)
	}
	return outputs, diags
}

// produce makes one unit: layer, lower, check, render. evaluator returns the worker's
// evaluator, made on first use: a unit the cache answers needs none.
func produce(evaluator func() *check.Evaluator, u *unit, known *cache.Known) (*output, hcl.Diagnostics) {
	var (
		api     *Node
		diags   hcl.Diagnostics
		ignored []string
	)
	var daemon *Node // the daemon's merged layers, for what the API form lacks
	if u.raw {
		api = u.root.Clone()
	} else {
		layers := spec.Layers(u.root, u.key, u.env)
		daemon = spec.Layer(layers)
		if daemon == nil {
			return nil, nil
		}
		api, diags = spec.Lower(daemon, u.key)
		ignored = spec.IgnoredWarnings(layers)
	}
	var violated, excepted []string // the policy's rules the daemon breaks, and is let through
	if u.policies != nil && len(diags) == 0 {
		// The policy's verdict is never cached: exceptions expire by the date.
		var ds hcl.Diagnostics
		ds, violated, excepted = policyDiags(u.policies, api, u.env, u.today)
		diags = append(diags, ds...)
	}
	marked := func(o *output, ds hcl.Diagnostics) (*output, hcl.Diagnostics) {
		if o != nil && o.facts != nil {
			o.facts.Violations, o.facts.Exceptions = violated, excepted
		}
		return o, ds
	}
	var key string
	if known.Enabled() && len(diags) == 0 {
		key = cache.CheckKey(api, !u.raw, ignored)
		if rendered, ok := known.Get(key); ok {
			return marked(finish(u, api, daemon, rendered, nil, key, ignored))
		}
	}
	diags = append(diags, evaluator().Check(api, !u.raw)...)
	if !diags.HasErrors() {
		diags = append(diags, lintDiags(api)...) // on a definition the API accepts
	}
	// An acknowledged warning prints nothing.
	diags = slices.DeleteFunc(diags, func(d *hcl.Diagnostic) bool {
		id := diag.WarningID(d)
		return id != "" && slices.Contains(ignored, id)
	})
	if diags.HasErrors() {
		if len(violated) > 0 {
			// No output, but what daemongen fleet shows of the daemon, and what it breaks.
			return marked(&output{facts: daemonFacts(u, api, daemon, ignored)}, diags)
		}
		return nil, diags
	}
	rendered := encoding.Render(api)
	if key != "" && len(diags) == 0 && !api.HasSensitive() {
		known.Put(key, rendered) // a sensitive value is never written to the cache
	}
	return marked(finish(u, api, daemon, rendered, diags, key, ignored))
}

// finish names a checked unit's output file and returns it; key is its check key, if
// the run computed one, and ignored the warnings the daemon acknowledges. A file to
// write must have a name that every file system takes; vet, which writes nothing,
// follows the API alone.
func finish(u *unit, api, daemon *Node, rendered []byte, diags hcl.Diagnostics, key string, ignored []string) (*output, hcl.Diagnostics) {
	family, _ := api.Get("family").Str()
	if f := api.Get("family"); f != nil && f.Sensitive {
		return nil, append(diags, check.DiagAt(api, []any{"family"}, hcl.DiagError,
			"the family comes from a sensitive value: it names the output file and is shown wherever the daemon is, so it cannot be secret"))
	}
	if u.writes && windowsReserved(family) && !slices.Contains(ignored, windowsReservedID) {
		d := check.DiagAt(api, []any{"family"}, hcl.DiagWarning, fmt.Sprintf(
			"the output file %s.json has a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9): it cannot be checked out there", family))
		diag.ExtraOf(d).WarningID = windowsReservedID
		diags = append(diags, d)
	}
	if u.writes && len(family)+len(".json") > maxFileName {
		d := check.DiagAt(api, []any{"family"}, hcl.DiagError, fmt.Sprintf(
			"a family of %d characters makes the output file name %d bytes long, and file systems allow %d: use at most %d characters",
			len(family), len(family)+len(".json"), maxFileName, maxFileName-len(".json")))
		return nil, append(diags, d)
	}
	u.out = family + ".json"
	u.familyAt = api.Get("family").Pos
	if u.env != "" {
		u.out = u.env + "/" + u.out
	}
	return &output{json: rendered, sensitive: api.SensitivePaths(nil, nil), check: key, facts: daemonFacts(u, api, daemon, ignored)}, diags
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Environments returns the environments the specs of cfg declare, sorted, for a shell's
// completion of --env: it reads the specs as far as the list of environments and reports
// nothing.
func Environments(cfg Config) []string {
	cfg.Cache, cfg.Env = nil, ""
	p, _, err := plan(cfg)
	if err != nil || p == nil {
		return nil
	}
	return p.envs
}
