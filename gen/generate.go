// Package gen turns daemon specs (CUE, HCL or API-form JSON) into register-ready ECS daemon
// task definitions. It returns files as data and writes nothing: writing, checking and
// printing belong to the command.
package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
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
	Cache *Cache
	// Sensitive, when not nil, receives for each output file the paths of the values that
	// derive from sensitive HCL variables, for [RedactDiff].
	Sensitive map[string][][]any
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

// Generate evaluates the specs and returns the output files, keyed by their path relative
// to the output folder: <family>.json, or <env>/<family>.json when the specs declare
// environments. When any daemon has an error, files is nil; diags then lists every error
// and warning, sorted. err is a [*UsageError] for mistakes on the command line.
func Generate(cfg Config) (files map[string][]byte, diags hcl.Diagnostics, err error) {
	if cfg.Dir == "" {
		if cfg.Dir, err = os.Getwd(); err != nil {
			return nil, nil, err
		}
	}
	p, diags, err := plan(cfg)
	if err != nil {
		return nil, nil, err
	}
	// One environment at a time: its evaluation is released before the next one's.
	files = map[string][]byte{}
	where := map[string]producer{}
	done := 0
	for _, env := range p.envs {
		units, ds := p.units(env)
		diags = append(diags, ds...)
		progress := cfg.Progress
		if progress != nil {
			before := done
			progress = func(n, total int) { cfg.Progress(before+n, before+total) }
		}
		outputs, unitDiags := run(units, progress, cfg.Cache)
		done += len(units)
		diags = append(diags, unitDiags...)
		for i, u := range units {
			if outputs[i] == nil {
				continue
			}
			if prev, dup := where[u.out]; dup && !(cfg.CheckOnly && (u.raw || prev.raw)) {
				diags = append(diags, newDiag(hcl.DiagError, u.at, "family",
					fmt.Sprintf("%s is generated twice: by %s and by %s", u.out, prev, u.producer())))
				continue
			}
			where[u.out] = u.producer()
			files[u.out] = outputs[i].json
			if cfg.Sensitive != nil && len(outputs[i].sensitive) > 0 {
				cfg.Sensitive[u.out] = outputs[i].sensitive
			}
		}
	}
	if cfg.Cache != nil {
		cfg.Cache.trim()
	}
	if cfg.Strict {
		for _, d := range diags {
			if d.Severity == hcl.DiagWarning {
				d.Severity = hcl.DiagError
			}
		}
	}
	diags = relativize(Normalize(diags), cfg.Dir)
	if diags.HasErrors() {
		files = nil
	}
	return files, diags, nil
}

// producer names what made an output, for the message when two units make the same one.
// It keeps no root, so that an environment's evaluation is released with its units.
func (u *unit) producer() producer { return producer{u.key, u.raw, u.at} }

// producer is what made an output: a daemon of a spec, or an API-form file.
type producer struct {
	key string
	raw bool
	at  token.Pos
}

func (p producer) String() string {
	pos := p.at.Position()
	name := p.key
	if p.raw {
		name = "the file"
	}
	return fmt.Sprintf("%s at %s:%d:%d", name, pos.Filename, pos.Line, pos.Column)
}

// relativize writes the file names inside messages relative to dir, as the positions are.
func relativize(diags hcl.Diagnostics, dir string) hcl.Diagnostics {
	prefix := filepath.ToSlash(dir) + "/"
	for _, d := range diags {
		d.Detail = strings.ReplaceAll(d.Detail, prefix, "")
		if d.Subject != nil {
			d.Subject.Filename = RelativeName(dir, d.Subject.Filename)
		}
	}
	return diags
}

// loaded is one source, loaded and checked.
type loaded struct {
	src  *source
	root *Node
	envs []string
	// broken is set when the source has errors that no daemon check should repeat: a spec
	// whose structure is wrong (every check of a daemon built from it would only repeat
	// them), or a JSON file that is not a daemon task definition.
	broken bool
}

// planned is what a run generates: the sources, loaded and checked, and the environments.
type planned struct {
	all  []loaded
	envs []string
}

// plan loads and checks the sources and decides the environments of a run. The daemons of
// each environment are made by [planned.units], one environment at a time, so that a run
// holds one environment's evaluation at once.
func plan(cfg Config) (*planned, hcl.Diagnostics, error) {
	for _, t := range cfg.Tags {
		if key, _, _ := strings.Cut(t, "="); key == envTag {
			return nil, nil, &UsageError{Msg: "the tag env is set by daemongen to each environment's name; use --env to choose environments"}
		}
	}
	sources, diags := discover(cfg.Dir, cfg.Paths, cfg.Inputs, cfg.Tags)
	if diags.HasErrors() {
		return nil, nil, &UsageError{Msg: diags[0].Detail}
	}
	if len(cfg.Inputs.Vars) > 0 || len(cfg.Inputs.VarFiles) > 0 {
		if !slices.ContainsFunc(sources, func(s *source) bool { return s.hcl }) {
			return nil, nil, &UsageError{Msg: "--var and --var-file set the variables of HCL specs, and no HCL spec is given; CUE specs take -t key=value for @tag values"}
		}
	}
	var all []loaded
	runEnvs := map[string]bool{}
	for _, src := range sources {
		root, ds := src.eval("")
		diags = append(diags, ds...)
		if root == nil {
			continue
		}
		l := loaded{src: src, root: root}
		if isSpec(root) {
			structural, local := checkSpec(root, src.params)
			diags = append(diags, structural...)
			diags = append(diags, local...)
			l.broken = structural.HasErrors()
			l.envs = names(structFields(root.Get("environments")))
			for _, use := range src.envNames {
				if !slices.Contains(l.envs, use.name) {
					msg := fmt.Sprintf("invalid value %q: names no environment of this spec, so the comparison with env is never true", use.name)
					if s := suggest(use.name, l.envs); s != "" {
						msg += fmt.Sprintf("; did you mean %q?", s)
					}
					diags = append(diags, newDiag(hcl.DiagError, use.pos, envTag, msg))
					l.broken = true
				}
			}
			if src.perEnv && len(l.envs) == 0 && !l.broken {
				diags = append(diags, newDiag(hcl.DiagError, root.Pos, "environments",
					"the spec sets env with @tag(env) but declares no environments; add environments: {dev: {}, prod: {}}"))
				l.broken = true
			}
			for _, e := range l.envs {
				runEnvs[e] = true
			}
		} else {
			switch d := root.Get("daemonTaskDefinition"); {
			case root.Kind != Struct:
				diags = append(diags, newDiag(hcl.DiagError, root.Pos, "",
					fmt.Sprintf("invalid value %s: a daemon task definition is a JSON object", root.Literal())))
				l.broken = true
			case d != nil:
				diags = append(diags, newDiag(hcl.DiagError, d.Pos, "daemonTaskDefinition",
					"this is the output of describe-daemon-task-definition, not register input; turn it into a spec with daemongen import"))
				l.broken = true
			}
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
				if s := suggest(cfg.Env, envs); s != "" {
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

// units evaluates the sources for environment env ("" for a run without environments)
// and lists its units: each daemon of each spec generated there, and each API-form file.
// A source without environments of its own is generated for every environment.
func (p *planned) units(env string) (units []*unit, diags hcl.Diagnostics) {
	for _, l := range p.all {
		if l.broken || len(l.envs) > 0 && !slices.Contains(l.envs, env) {
			continue
		}
		if !isSpec(l.root) {
			units = append(units, &unit{root: l.root, env: env, raw: true, at: l.root.Pos})
			continue
		}
		root := l.root
		if l.src.perEnv {
			var ds hcl.Diagnostics
			if root, ds = l.src.eval(env); root == nil {
				diags = append(diags, withContext(ds, env)...)
				continue
			}
			// Each environment's evaluation is checked on its own: an overlay exists
			// only in its environment's evaluation, with @tag(env) and in HCL alike.
			structural, local := checkSpec(root, l.src.params)
			// A structure error's path names its environment; Normalize merges the
			// same error found in several evaluations.
			diags = append(diags, withContext(ds, env)...)
			diags = append(diags, slices.Concat(structural, local)...)
			if structural.HasErrors() {
				continue
			}
		}
		for _, d := range structFields(root.Get("daemons")) {
			if Enabled(Layers(root, d.Name, env)) {
				units = append(units, &unit{root: root, key: d.Name, env: env, at: d.Value.Pos})
			}
		}
	}
	return units, diags
}

// allUnits lists the units of every environment.
func (p *planned) allUnits() (units []*unit, diags hcl.Diagnostics) {
	for _, env := range p.envs {
		us, ds := p.units(env)
		units = append(units, us...)
		diags = append(diags, ds...)
	}
	return units, diags
}

type output struct {
	json      []byte
	sensitive [][]any // the paths of sensitive values
}

// maxFileName is the longest file name, in bytes, that common file systems allow.
const maxFileName = 255

// run checks and renders the units on a pool of workers, one evaluator each. Results come
// back in the units' order, whatever order the workers finish in.
func run(units []*unit, progress func(done, total int), cache *Cache) ([]*output, hcl.Diagnostics) {
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
			var ev *evaluator
			evaluator := func() *evaluator {
				if ev == nil {
					ev = newEvaluator()
				}
				return ev
			}
			for i := range work {
				outputs[i], unitDiags[i] = produce(evaluator, units[i], cache)
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
		diags = append(diags, withContext(ds, units[i].context())...)
	}
	return outputs, diags
}

// produce makes one unit: layer, lower, check, render. evaluator returns the worker's
// evaluator, made on first use: a unit the cache answers needs none.
func produce(evaluator func() *evaluator, u *unit, cache *Cache) (*output, hcl.Diagnostics) {
	var (
		api     *Node
		diags   hcl.Diagnostics
		ignored []string
	)
	if u.raw {
		api = u.root.Clone()
	} else {
		layers := Layers(u.root, u.key, u.env)
		daemon := Layer(layers)
		if daemon == nil {
			return nil, nil
		}
		api, diags = Lower(daemon, u.key)
		ignored = ignoredWarnings(layers)
	}
	var key string
	if cache != nil && len(diags) == 0 {
		key = checkKey(api, !u.raw, ignored)
		if rendered, ok := cache.get(key); ok {
			return finish(u, api, rendered, nil)
		}
	}
	diags = append(diags, evaluator().check(api, !u.raw)...)
	// An acknowledged warning prints nothing.
	diags = slices.DeleteFunc(diags, func(d *hcl.Diagnostic) bool {
		id := WarningID(d)
		return id != "" && slices.Contains(ignored, id)
	})
	if diags.HasErrors() {
		return nil, diags
	}
	rendered := Render(api)
	if key != "" && len(diags) == 0 {
		cache.put(key, rendered)
	}
	return finish(u, api, rendered, diags)
}

// finish names a checked unit's output file and returns it.
func finish(u *unit, api *Node, rendered []byte, diags hcl.Diagnostics) (*output, hcl.Diagnostics) {
	family, _ := api.Get("family").Str()
	if len(family)+len(".json") > maxFileName {
		d := diagAt(api, []any{"family"}, hcl.DiagError, fmt.Sprintf(
			"a family of %d characters makes the output file name %d bytes long, and file systems allow %d: use at most %d characters",
			len(family), len(family)+len(".json"), maxFileName, maxFileName-len(".json")))
		return nil, append(diags, d)
	}
	u.out = family + ".json"
	if u.env != "" {
		u.out = u.env + "/" + u.out
	}
	return &output{json: rendered, sensitive: api.sensitivePaths(nil, nil)}, diags
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
