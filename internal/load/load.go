// Package load discovers a run's sources (CUE packages, HCL specs, JSON files) and reads
// them within the input limits: each becomes a Source that evaluates, per environment, to
// positioned nodes, and says what its syntax tells of environments, for the checks that
// catch a misspelled one. The front ends' own work is CUE's loader and package hclspec.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/literal"
	cueload "cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"
	"cuelang.org/go/mod/modconfig"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/safefile"
)

// EnvTag is the CUE tag that receives the environment's name: a spec that declares
// `env: string @tag(env)` is evaluated once per environment with it set.
const EnvTag = "env"

// Source is one input: a CUE package, a JSON file, or an HCL file set.
type Source struct {
	// Eval returns the source's root value for an environment ("" when the source is
	// evaluated once for all environments).
	Eval func(env string) (*node.Node, hcl.Diagnostics)
	// PerEnv is set when eval depends on the environment.
	PerEnv bool
	// language is the source's input language: HCL specs have variables, a JSON file
	// stands alone (one definition, or a spec of its own).
	Language lang.Language
	// Params are the top-level fields that take @tag values, beside the spec's own.
	Params []string
	// envNames are the names the spec compares env with, each with its position.
	envNames []envName
	// envEntries are the places that name an environment (see [envEntry]); envEntriesAll
	// is set when they are all the spec has, none being computed or imported.
	envEntries    []envEntry
	envEntriesAll bool
	// envIndexes are the structs the spec indexes by env ({dev: ..., prod: ...}[env]).
	envIndexes []envIndex
	// Failed says which daemons the front end's own errors in the latest evaluation reach
	// (HCL only): their checks are skipped, as they would report knock-ons only.
	Failed *hclspec.Failed
	// path is a JSON file's.
	Path string
	// Open reads the source's files and sets what the source says of itself (perEnv,
	// Params, envNames); it returns why they cannot be read, which eval returns too. Nil
	// for a source that has nothing to read before it is evaluated.
	Open func() hcl.Diagnostics
	// releaseFunc lets go of what the source keeps between evaluations (its parsed
	// files); the next evaluation reads them again. Nil when it keeps nothing.
	releaseFunc func()
	// keyFunc is inputKey; nil for a source that cannot be cached whole.
	keyFunc func() (string, bool)
	// Size is how many bytes open read.
	Size int64
	// Names are the folder or the files the source was given as: for messages, and for
	// the cache to find the latest record of the source, whatever its bytes.
	Names []string
}

// Named sets the names of s, and returns s.
func Named(s *Source, names ...string) *Source {
	s.Names = names
	return s
}

// Announce makes each evaluation of the source first call evaluating with its names,
// relative to dir.
func (s *Source) Announce(dir string, evaluating func(source string)) {
	rel := make([]string, len(s.Names))
	for i, n := range s.Names {
		rel[i] = diag.RelativeName(dir, n)
	}
	name, eval := strings.Join(rel, ", "), s.Eval
	s.Eval = func(env string) (*node.Node, hcl.Diagnostics) {
		evaluating(name)
		return eval(env)
	}
}

// InputKey returns the source's key in the cache, when its outputs depend on nothing but
// the bytes of its own files (and the tags, the build and the schema): a JSON file, or a
// CUE package outside any CUE module (cue.mod) that imports only the standard library and
// embeds no file. ok is false for any other source: its daemons are cached one by one.
func (s *Source) InputKey() (key string, ok bool) {
	if s.keyFunc == nil {
		return "", false
	}
	return s.keyFunc()
}

// Release lets go of what the source keeps between evaluations: a run calls it when it
// is done with the source, so that it holds one source's files at a time.
func (s *Source) Release() {
	if s.releaseFunc != nil {
		s.releaseFunc()
	}
}

// envName is a name that a spec compares env with: env == "prod".
type envName struct {
	name string
	pos  token.Pos
}

// Discover turns the command line's paths into sources: each directory's .cue files form one
// package, the .cue files named on the command line form another, and every .json file is a
// daemon task definition of its own.
func Discover(dir string, paths []string, in hclspec.Inputs, tags []string) ([]*Source, hcl.Diagnostics) {
	var (
		sources  []*Source
		diags    hcl.Diagnostics
		cueFiles []string
		hclFiles []string
	)
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, p)
		}
		info, err := os.Stat(abs)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: no such file or directory", p)})
			continue
		}
		if info.IsDir() {
			entries, err := os.ReadDir(abs)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: err.Error()})
				continue
			}
			hasCUE := false
			before := len(sources)
			var dirHCL, autoVars []string
			for _, e := range entries {
				switch name := e.Name(); {
				case e.IsDir():
				case lang.Of(name) == lang.CUE:
					hasCUE = true
				case strings.HasSuffix(name, hclspec.AutoVarFileSuffix):
					autoVars = append(autoVars, filepath.Join(abs, name))
				case strings.HasSuffix(name, varFileSuffix):
					// Variable files are named with --var-file, not read as specs.
				case lang.Of(name) == lang.HCL:
					dirHCL = append(dirHCL, filepath.Join(abs, name))
				case lang.Of(name) == lang.JSON:
					sources = append(sources, jsonSource(filepath.Join(abs, name)))
				}
			}
			if hasCUE {
				sources = append(sources, Named(cueSource([]string{abs}, tags), abs))
			}
			if len(dirHCL) > 0 {
				// The folder's *.auto.vars.hcl come before --var-file, as Terraform's
				// *.auto.tfvars come before -var-file.
				dirIn := in
				dirIn.VarFiles = append(autoVars, in.VarFiles...)
				sources = append(sources, Named(hclSource(abs, dirHCL, dirIn), abs))
			}
			if len(sources) == before {
				msg := fmt.Sprintf("%s: no .cue, .hcl or .json files", p)
				var subdirs []string
				for _, e := range entries {
					if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
						subdirs = append(subdirs, filepath.ToSlash(filepath.Join(p, e.Name())))
					}
				}
				if len(subdirs) > 0 {
					msg += "; the specs may be in " + strings.Join(subdirs, ", ")
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: msg})
			}
			continue
		}
		switch lang.Of(p) {
		case lang.CUE:
			cueFiles = append(cueFiles, abs)
		case lang.JSON:
			sources = append(sources, jsonSource(abs))
		case lang.HCL:
			hclFiles = append(hclFiles, abs)
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: not a .cue, .hcl or .json file or a directory", p)})
		}
	}
	if len(cueFiles) > 0 {
		sources = append(sources, Named(cueSource(cueFiles, tags), cueFiles...))
	}
	if len(hclFiles) > 0 {
		sources = append(sources, Named(hclSource(dir, hclFiles, in), hclFiles...))
	}
	return sources, diags
}

// loadArg makes an absolute path into the form cueload.Instances takes: relative to dir and
// starting with ./ or ../.
func loadArg(dir, abs string) string {
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return abs
	}
	rel = filepath.ToSlash(rel)
	if !strings.HasPrefix(rel, "../") && rel != ".." {
		rel = "./" + rel
	}
	return rel
}

// cueSource loads a CUE package from a directory or from a list of files, with the @tag
// values tags (key=value) and, per environment, env.
func cueSource(abs []string, tags []string) *Source {
	// CUE finds the module (cue.mod) from the folder it loads in: the spec's own folder,
	// so that a spec imports its module's packages wherever daemongen runs from.
	var dir string
	if info, err := os.Stat(abs[0]); err == nil && info.IsDir() {
		dir = abs[0]
	} else {
		dir = filepath.Dir(abs[0])
	}
	args := make([]string, len(abs))
	for i, a := range abs {
		args[i] = loadArg(dir, a)
	}
	loadWith := func(tags []string) (*build.Instance, hcl.Diagnostics) {
		insts := cueload.Instances(args, &cueload.Config{Dir: dir, Tags: tags, Registry: registry})
		if len(insts) != 1 {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: expected one CUE package, found %d", strings.Join(args, " "), len(insts))}}
		}
		if err := insts[0].Err; err != nil {
			return nil, encoding.CUEErrors(err)
		}
		if diags := checkSyntaxLimits(insts[0]); diags.HasErrors() {
			return nil, diags
		}
		return insts[0], nil
	}
	var (
		base   *build.Instance // the package without an environment, until released
		failed hcl.Diagnostics // why it does not load
	)
	s := &Source{Language: lang.CUE}
	s.keyFunc = func() (string, bool) { return cueInputKey(dir, abs, tags) }
	s.Open = func() hcl.Diagnostics {
		for _, a := range abs {
			files := []string{a}
			if info, err := os.Stat(a); err == nil && info.IsDir() {
				files, _ = filepath.Glob(filepath.Join(a, "*.cue"))
			}
			for _, f := range files {
				if _, d := ReadInput(f); d != nil {
					failed = append(failed, d)
				}
			}
		}
		if !failed.HasErrors() {
			base, failed = loadWith(tags)
		}
		if failed.HasErrors() {
			return failed
		}
		s.PerEnv, s.Params, s.envNames = usesTag(base, EnvTag), taggedFields(base), envComparisons(base)
		s.envEntries, s.envEntriesAll, s.envIndexes = cueEnvSyntax(base)
		return nil
	}
	s.releaseFunc = func() { base = nil }
	s.Eval = func(env string) (*node.Node, hcl.Diagnostics) {
		if failed.HasErrors() {
			return nil, failed
		}
		inst := base
		if env != "" && s.PerEnv || inst == nil {
			loadTags := tags
			if env != "" && s.PerEnv {
				loadTags = append(slices.Clone(tags), EnvTag+"="+env)
			}
			var diags hcl.Diagnostics
			if inst, diags = loadWith(loadTags); diags.HasErrors() {
				return nil, diags
			}
		}
		v := cuecontext.New().BuildInstance(inst)
		if err := v.Err(); err != nil {
			return nil, encoding.CUEErrors(err)
		}
		// Without an environment, `env` has no value and whatever depends on it is
		// incomplete: only the list of environments is read from such an evaluation.
		if env == "" && s.PerEnv {
			return envNamesOnly(v)
		}
		return encoding.FromCUE(v)
	}
	return s
}

// cueInputKey is the cache key of a CUE source (see [source.inputKey]): the .cue files of
// the paths abs, loaded from dir with tags.
func cueInputKey(dir string, abs, tags []string) (string, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cue.mod")); err == nil {
			return "", false // a module: ancestor folders' files and imports join the package
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	files := map[string][]byte{}
	for _, a := range abs {
		names := []string{a}
		if info, err := os.Stat(a); err == nil && info.IsDir() {
			names, _ = filepath.Glob(filepath.Join(a, "*.cue"))
		}
		for _, name := range names {
			data, err := safefile.Read(name, node.MaxFileSize)
			if err != nil || bytes.Contains(data, []byte("@extern")) || bytes.Contains(data, []byte("@embed")) {
				return "", false
			}
			f, err := parser.ParseFile(name, data, parser.ImportsOnly)
			if err != nil {
				return "", false
			}
			for spec := range f.ImportSpecs() {
				path, err := literal.Unquote(spec.Path.Value)
				if first, _, _ := strings.Cut(path, "/"); err != nil || strings.Contains(first, ".") {
					return "", false // not the standard library
				}
			}
			files[name] = data
		}
	}
	return cache.SourceKey("cue", tags, files), len(files) > 0
}

// registry fetches the CUE modules that specs import, as the cue command does
// ($CUE_REGISTRY, cue login), but never waits on a registry for long: a connection, a
// response and a whole request each have a deadline, and the error names the registry.
var registry = &modconfig.LazyRegistry{New: func() (modconfig.CachedRegistry, error) {
	return modconfig.NewRegistry(&modconfig.Config{ClientType: "daemongen", Transport: &deadlineTransport{
		base: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		timeout: registryTimeout,
	}})
}}

// registryTimeout bounds one request to a module registry, body included.
const registryTimeout = 60 * time.Second

// deadlineTransport gives every request a deadline that also covers reading its body.
type deadlineTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("module registry %s: %w", req.URL.Host, err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}

// envNamesOnly returns the outline of a spec evaluated without its environment: its
// top-level fields, empty, and the names of the declared environments. Its values depend
// on env, so only the names are read; each environment's evaluation is checked in full.
func envNamesOnly(v cue.Value) (*node.Node, hcl.Diagnostics) {
	root := node.NewStruct(v.Pos())
	it, err := v.Fields()
	if err != nil {
		return nil, encoding.CUEErrors(err)
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		outline := node.NewStruct(it.Value().Pos())
		if name == lang.SectionEnvironments {
			envs, err := it.Value().Fields()
			if err != nil {
				return nil, encoding.CUEErrors(err)
			}
			for envs.Next() {
				outline.Set(envs.Selector().Unquoted(), node.NewStruct(envs.Value().Pos()))
			}
		}
		root.Set(name, outline)
	}
	return root, nil
}

// usesTag reports whether any file of inst declares @tag(name).
func usesTag(inst *build.Instance, name string) bool {
	found := false
	for _, f := range inst.Files {
		ast.Walk(f, func(n ast.Node) bool {
			if a, ok := n.(*ast.Attribute); ok {
				key, body := a.Split()
				if key == "tag" && strings.TrimSpace(strings.SplitN(body, ",", 2)[0]) == name {
					found = true
				}
			}
			return !found
		}, nil)
	}
	return found
}

// envComparisons returns the names that the files of inst compare env with (env ==
// "prod", env != "dev"), which must each name a declared environment.
func envComparisons(inst *build.Instance) []envName {
	var out []envName
	for _, f := range inst.Files {
		ast.Walk(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
				return true
			}
			for _, pair := range [][2]ast.Expr{{b.X, b.Y}, {b.Y, b.X}} {
				id, isIdent := pair[0].(*ast.Ident)
				lit, isLit := pair[1].(*ast.BasicLit)
				if isIdent && isLit && id.Name == EnvTag && lit.Kind == token.STRING {
					if name, err := strconv.Unquote(lit.Value); err == nil {
						out = append(out, envName{name, lit.Pos()})
					}
				}
			}
			return true
		}, nil)
	}
	return out
}

// envEntry is one place where a spec names an environment: an entry of environments in
// CUE, an environment block in HCL. overlayOnly is set when it holds daemon overlays and
// nothing else, which declares nothing: a misspelt name there would silently make an
// environment of its own (see [envTypos]).
type envEntry struct {
	name        string
	pos         token.Pos
	overlayOnly bool
	hcl         bool
}

// cueEnvSyntax reads, in one walk of the files of inst, what the syntax says of
// environments: the entries of environments (all is false when the spec names
// environments in a way the syntax does not show: a computed label, a comprehension, a
// value from another package, and the typo check is then not made), and the structs the
// spec indexes by env whose keys the syntax shows (a struct literal, or a top-level field
// of the package holding one; an index inside a disjunction may have a fallback and is
// left out).
func cueEnvSyntax(inst *build.Instance) (entries []envEntry, all bool, indexes []envIndex) {
	all = true
	literals := map[string]*ast.StructLit{} // top-level fields whose value is a struct literal
	for _, f := range inst.Files {
		for _, d := range f.Decls {
			if field, ok := d.(*ast.Field); ok {
				if sl, ok := field.Value.(*ast.StructLit); ok {
					if name, _, err := ast.LabelName(field.Label); err == nil {
						literals[name] = sl
					}
				}
			}
		}
	}
	isOr := func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		return ok && b.Op == token.OR
	}
	for _, f := range inst.Files {
		top := map[ast.Node]bool{}
		for _, d := range f.Decls {
			top[d] = true
		}
		owner := map[ast.Expr]string{}
		inDisjunction := 0
		ast.Walk(f, func(n ast.Node) bool {
			if isOr(n) {
				inDisjunction++
			}
			switch n := n.(type) {
			case *ast.Field:
				name, _, err := ast.LabelName(n.Label)
				if err == nil {
					owner[n.Value] = name
				}
				if name == lang.SectionEnvironments {
					var ok bool
					entries, ok = appendEnvEntries(entries, n, top[n])
					all = all && ok
				}
			case *ast.IndexExpr:
				if ix, ok := envIndexOf(n, literals, inDisjunction > 0); ok {
					ix.field = owner[n]
					indexes = append(indexes, ix)
				}
			}
			return true
		}, func(n ast.Node) {
			if isOr(n) {
				inDisjunction--
			}
		})
	}
	return entries, all, indexes
}

// appendEnvEntries appends the entries of the environments field f; ok is false when
// they are not all in the syntax (f is not at the top level, or not a struct literal, or
// has a comprehension or a computed label).
func appendEnvEntries(entries []envEntry, f *ast.Field, atTop bool) (_ []envEntry, ok bool) {
	sl, isStruct := f.Value.(*ast.StructLit)
	if !atTop || !isStruct {
		return entries, false
	}
	ok = true
	for _, elt := range sl.Elts {
		env, isField := elt.(*ast.Field)
		if !isField {
			ok = false // a comprehension or an embedding: names not in the syntax
			continue
		}
		name, _, err := ast.LabelName(env.Label)
		if err != nil {
			ok = false // a computed label
			continue
		}
		entries = append(entries, envEntry{name: name, pos: env.Label.Pos(), overlayOnly: onlyDaemons(env.Value)})
	}
	return entries, ok
}

// envIndexOf returns the struct that ix indexes by env, when its keys are in the syntax.
func envIndexOf(ix *ast.IndexExpr, literals map[string]*ast.StructLit, inDisjunction bool) (envIndex, bool) {
	if id, ok := ix.Index.(*ast.Ident); !ok || id.Name != EnvTag || inDisjunction {
		return envIndex{}, false
	}
	var sl *ast.StructLit
	switch x := ix.X.(type) {
	case *ast.StructLit:
		sl = x
	case *ast.Ident:
		sl = literals[x.Name]
	}
	if sl == nil {
		return envIndex{}, false
	}
	var keys []string
	for _, elt := range sl.Elts {
		f, isField := elt.(*ast.Field)
		if !isField {
			return envIndex{}, false // a comprehension or an embedding: keys not in the syntax
		}
		name, _, err := ast.LabelName(f.Label)
		if err != nil {
			return envIndex{}, false
		}
		keys = append(keys, name)
	}
	return envIndex{pos: ix.Lbrack, keys: keys}, len(keys) > 0
}

// onlyDaemons reports whether the value of an environment's entry is a struct that holds
// daemons and nothing else.
func onlyDaemons(v ast.Expr) bool {
	sl, ok := v.(*ast.StructLit)
	if !ok || len(sl.Elts) == 0 {
		return false
	}
	for _, elt := range sl.Elts {
		f, ok := elt.(*ast.Field)
		if !ok {
			return false
		}
		if name, _, _ := ast.LabelName(f.Label); name != lang.SectionDaemons {
			return false
		}
	}
	return true
}

// envIndex is a struct literal that a CUE spec indexes by env: _account: {dev: "1",
// prod: "2"}[env], or a top-level field that holds one, indexed as _accounts[env].
type envIndex struct {
	field string    // the field whose value is the index, "" when it is nested deeper
	pos   token.Pos // the index expression
	keys  []string
}

// envIndexDiags reports each struct indexed by env that has no entry for one of the
// spec's environments: in that environment, everything computed from it has no value,
// and CUE's own errors would name the knock-ons, not the missing entry.
func envIndexDiags(indexes []envIndex, envs []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, ix := range indexes {
		for _, env := range envs {
			if slices.Contains(ix.keys, env) {
				continue
			}
			msg := fmt.Sprintf("the environment %q has no entry in the struct indexed by env here (its entries: %s)", env, strings.Join(ix.keys, ", "))
			var missing []string
			for _, k := range ix.keys {
				if !slices.Contains(envs, k) {
					missing = append(missing, k)
				}
			}
			if s := diag.Suggest(env, missing); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			path := ix.field
			if path == "" {
				path = EnvTag
			}
			diags = append(diags, diag.New(hcl.DiagError, ix.pos, path, msg))
		}
	}
	return diags
}

// envTypos reports each environment that a spec only ever names in daemon overlays, never
// declares, and whose name is close to a declared one: environments: stagng: daemons:
// falco: null (or environment "stagng" { daemon "falco" {...} }) beside a declared
// staging. Without this, the overlay would silently make a new environment and leave
// staging as it was. Close names that are all declared (eu-west-1, eu-west-2) are fine.
func envTypos(entries []envEntry) hcl.Diagnostics {
	var declared []string
	for _, e := range entries {
		if !e.overlayOnly && !slices.Contains(declared, e.name) {
			declared = append(declared, e.name)
		}
	}
	slices.Sort(declared)
	var diags hcl.Diagnostics
	reported := map[string]bool{}
	for _, e := range entries {
		if slices.Contains(declared, e.name) || reported[e.name] {
			continue
		}
		s := diag.Suggest(e.name, declared)
		if s == "" {
			continue
		}
		reported[e.name] = true
		path := "environments." + e.name
		if e.hcl {
			path = "environment." + e.name
		}
		diags = append(diags, diag.New(hcl.DiagError, e.pos, path, fmt.Sprintf(
			"an environment that only overlays daemons and is declared nowhere; did you mean %q? (declared: %s; to add an environment, declare it)", s, strings.Join(declared, ", "))))
	}
	return diags
}

// taggedFields returns the top-level fields of inst that take an @tag value: parameters
// of the spec (version: string @tag(version)), not misspelt sections.
func taggedFields(inst *build.Instance) []string {
	var names []string
	for _, f := range inst.Files {
		for _, d := range f.Decls {
			field, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			for _, a := range field.Attrs {
				if key, _ := a.Split(); key == "tag" {
					if name, _, err := ast.LabelName(field.Label); err == nil {
						names = append(names, name)
					}
				}
			}
		}
	}
	return names
}

// varFileSuffix names HCL variable files, which a directory's specs do not include.
const varFileSuffix = ".vars.hcl"

// hclSource reads HCL files that together make one spec. specDir is where file() reads
// relative paths from.
func hclSource(specDir string, abs []string, in hclspec.Inputs) *Source {
	parse := func() (*hclspec.Spec, hcl.Diagnostics) {
		sources := map[string][]byte{}
		var diags hcl.Diagnostics
		for _, f := range abs {
			b, d := ReadInput(f)
			if d != nil {
				diags = append(diags, d)
				continue
			}
			sources[f] = b
		}
		spec, ds := hclspec.Parse(abs, sources, specDir)
		return spec, append(diags, ds...)
	}
	var (
		spec   *hclspec.Spec // until released
		envs   []string
		failed hcl.Diagnostics
	)
	s := &Source{Language: lang.HCL}
	s.Open = func() hcl.Diagnostics {
		if spec, failed = parse(); failed.HasErrors() {
			return failed
		}
		for _, f := range abs {
			if info, err := os.Stat(f); err == nil {
				s.Size += info.Size()
			}
		}
		envs = spec.Environments()
		s.PerEnv = len(envs) > 0
		for _, c := range spec.EnvComparisons() {
			s.envNames = append(s.envNames, envName{c.Name, spec.Pos(c.Range)})
		}
		s.envEntries, s.envEntriesAll = nil, true
		for _, b := range spec.EnvBlocks() {
			s.envEntries = append(s.envEntries, envEntry{b.Name, spec.Pos(b.Range), b.OverlayOnly, true})
		}
		return nil
	}
	s.releaseFunc = func() { spec = nil }
	s.Eval = func(env string) (*node.Node, hcl.Diagnostics) {
		if failed.HasErrors() {
			return nil, failed
		}
		if env == "" && s.PerEnv {
			root := node.NewStruct(token.NoPos)
			list := node.NewStruct(token.NoPos)
			for _, e := range envs {
				list.Set(e, node.NewStruct(token.NoPos))
			}
			root.Set(lang.SectionEnvironments, list)
			return root, nil
		}
		if spec == nil {
			// Read again after a release; the files were read once without error.
			var ds hcl.Diagnostics
			if spec, ds = parse(); ds.HasErrors() {
				return nil, ds
			}
		}
		// An attribute whose expression fails is left out and reported; the daemons it
		// reaches are not checked (see source.failed), the rest are, so that every
		// mistake shows at once and none as a knock-on of another.
		expr, sensitive, failed, diags := spec.CUE(env, in)
		s.Failed = failed
		if expr == nil {
			return nil, diags
		}
		v := cuecontext.New().BuildExpr(expr)
		if err := v.Err(); err != nil {
			return nil, append(diags, encoding.CUEErrors(err)...)
		}
		root, ds := encoding.FromCUE(v)
		root.MarkSensitive(sensitive)
		return root, append(diags, ds...)
	}
	return s
}

// jsonSource reads a JSON file: one daemon task definition in API form.
func jsonSource(abs string) *Source {
	key := func() (string, bool) {
		data, err := safefile.Read(abs, node.MaxFileSize)
		if err != nil {
			return "", false
		}
		return cache.SourceKey("json", nil, map[string][]byte{abs: data}), true
	}
	return &Source{Language: lang.JSON, Path: abs, Names: []string{abs}, keyFunc: key, Eval: func(string) (*node.Node, hcl.Diagnostics) {
		data, d := ReadJSONFile(abs)
		if d != nil {
			return nil, hcl.Diagnostics{d}
		}
		expr, err := cuejson.Extract(abs, data)
		if err != nil {
			return nil, encoding.CUEErrors(err)
		}
		v := cuecontext.New().BuildExpr(expr)
		if err := v.Err(); err != nil {
			return nil, encoding.CUEErrors(err)
		}
		return encoding.FromCUE(v)
	}}
}

// utf8BOM is the byte order mark some editors write at the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// ReadJSONFile reads a JSON file within the limits: at most node.MaxFileSize bytes, UTF-8 (a
// byte order mark is dropped), nested at most node.MaxDepth levels, and well-formed. A problem
// is reported at its line and column.
func ReadJSONFile(name string) ([]byte, *hcl.Diagnostic) {
	data, d := ReadInput(name)
	if d != nil {
		return nil, d
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > node.MaxDepth {
				return nil, jsonDiagAt(name, data, i, fmt.Sprintf("nested more than %d levels deep; daemon task definitions nest a few levels", node.MaxDepth))
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	if d := jsonSyntaxDiag(name, data); d != nil {
		return nil, d
	}
	return data, nil
}

// jsonDiagAt reports msg at byte offset off of a JSON file.
func jsonDiagAt(name string, data []byte, off int, msg string) *hcl.Diagnostic {
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	start := hcl.Pos{Line: line, Column: col, Byte: off}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Detail: msg, Subject: &hcl.Range{Filename: name, Start: start, End: start}}
}

// jsonSyntaxDiag reports the first syntax error of a JSON file at its line and column,
// saying what is wrong; nil when the file is well-formed.
func jsonSyntaxDiag(name string, data []byte) *hcl.Diagnostic {
	var v any
	err := json.Unmarshal(data, &v)
	syn, isSyntax := err.(*json.SyntaxError)
	if err == nil || !isSyntax {
		if err != nil && strings.Contains(err.Error(), "unexpected end of JSON input") {
			syn = &json.SyntaxError{Offset: int64(len(data))}
		} else {
			return nil
		}
	}
	off := min(int(syn.Offset), len(data))
	if off > 0 && data[off-1] != '\n' {
		off-- // Offset is just past the offending byte
	}
	return jsonDiagAt(name, data, off, "invalid JSON: "+err.Error())
}

// EnvDiags checks what the source's syntax says of environments against envs, the
// environments its spec declares: a name misspelled where the spec names an environment, an
// index by env that lacks one, a comparison with env that is never true. It then lets go of
// the syntax it checked, whose positions keep the source's parse alive (open reads it again
// when the source is checked again).
func (s *Source) EnvDiags(envs []string) (diags hcl.Diagnostics) {
	if s.envEntriesAll {
		diags = append(diags, envTypos(s.envEntries)...)
	}
	diags = append(diags, envIndexDiags(s.envIndexes, envs)...)
	s.envEntries, s.envIndexes = nil, nil
	for _, use := range s.envNames {
		if !slices.Contains(envs, use.name) {
			msg := fmt.Sprintf("invalid value %q: names no environment of this spec, so the comparison with env is never true", use.name)
			if suggested := diag.Suggest(use.name, envs); suggested != "" {
				msg += fmt.Sprintf("; did you mean %q?", suggested)
			}
			diags = append(diags, diag.New(hcl.DiagError, use.pos, EnvTag, msg))
		}
	}
	return diags
}
