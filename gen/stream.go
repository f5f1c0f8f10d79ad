// This file holds the run itself: Generate collects what Stream hands over, and Stream
// takes the sources one at a time, replays what the cache remembers whole, hands each
// output over as it is made, and checks across the run (conflicting outputs, the fleet,
// unused policy exceptions) at the end.

package gen

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/diag"
)

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
		record.Add(recorded(env, u.out, outputs[k], u.producer()))
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
