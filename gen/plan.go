// This file holds a run's plan: the sources, each checked once (its structure and what it
// says of environments), and the units (one daemon in one environment) they make.

package gen

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/load"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/spec"
)

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
	envs := slices.Sorted(maps.Keys(runEnvs))
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
	if src.Language == lang.JSON && len(lang.Top{Node: root}.Daemons()) == 0 {
		// A JSON file stands alone: as a spec that defines no daemon, it does nothing.
		return l, append(diags, diag.New(hcl.DiagError, root.Pos, "",
			"the file defines no daemon: a JSON input is either one daemon task definition in API form (family, containerDefinitions, ...) or a spec in JSON whose daemons holds at least one daemon")), false
	}
	structural, local := spec.Check(root, src.Params)
	diags = append(diags, structural...)
	diags = append(diags, local...)
	l.broken = structural.HasErrors()
	l.envs = lang.Top{Node: root}.EnvironmentNames()
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
	for _, d := range (lang.Top{Node: root}).Daemons() {
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
	for _, d := range (lang.Top{Node: root}).Daemons() {
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
