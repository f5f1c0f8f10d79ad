// This file reads what a CUE source's syntax says of environments, before evaluation: the
// names it compares env with, the places that name an environment, the structs it indexes
// by env. Source.EnvDiags checks them against the environments the spec declares.

package load

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// envName is a name that a spec compares env with: env == "prod".
type envName struct {
	name string
	pos  token.Pos
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
