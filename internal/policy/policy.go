// Package policy holds an organisation's rules that no team's layer can override: CUE
// files of rules, each a constraint on the final API form of every daemon (after layering
// and lowering), scoped to environments and families, and exceptions that live in the
// policy, not in a team's spec, each with a reason and an optional expiry. It reads
// policies and checks daemons given as CUE; it knows nothing of specs, so a violation's
// place in the spec is for the stage that calls it to find.
package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/token"
	"github.com/daemongen/daemongen/internal/node"
)

// Schema is the form of a policy file, which every policy is checked against first.
const Schema = `
rules?: [string]: {
	// doc says what the rule is for; messages quote it.
	doc?: string
	// envs and families scope the rule; it applies everywhere when they are absent.
	envs?: [...string]
	families?: [...string]
	// check constrains the daemon task definition in API form.
	check: {...}
}
exceptions?: [...{
	family!: string
	env?:    string
	rule!:   string
	reason!: string & =~"\\S"
	// expires is the last day (YYYY-MM-DD) the exception applies.
	expires?: =~"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
}]
`

// Rule is one rule of a policy.
type Rule struct {
	Name     string
	Doc      string
	Envs     []string
	Families []string
	At       token.Position // where the rule is named
	check    cue.Value
}

// Exception lets one family (in one environment, or in all) through one rule.
type Exception struct {
	Family, Env, Rule, Reason string
	Expires                   string // YYYY-MM-DD, or ""
	At                        token.Position
	used                      bool
}

// Set is every policy of a run.
type Set struct {
	Rules      []*Rule
	Exceptions []*Exception
	ctx        *cue.Context
	// mu serializes checks: a CUE context is not safe for concurrent use, and a run
	// checks its daemons on several workers.
	mu sync.Mutex
}

// Problem is a mistake in a policy file, at its position.
type Problem struct {
	At  token.Position
	Msg string
}

// Load reads the policy files and folders of paths (a folder's .cue files are one
// policy), checks each against [Schema] and its checks against known, which says whether
// the API has a field path (containerDefinitions.*.privileged) and suggests one, and returns them, or every problem. Imports
// are limited to the standard library, and none of it that runs code (tool/...).
// maxList bounds the list literals a policy may write, as specs are bounded, before CUE
// evaluates any of it.
func Load(paths []string, known func(path []string) (ok bool, suggestion string), maxList int) (*Set, []Problem) {
	ctx := cuecontext.New()
	schema := ctx.CompileString(Schema, cue.Filename("policy schema"))
	set := &Set{ctx: ctx}
	var problems []Problem
	for _, p := range paths {
		// Loaded from its own folder, as cue loads a package: the file, or the folder's
		// package, named relative to it.
		dir, arg := p, "."
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			dir, arg = filepath.Dir(p), "./"+filepath.Base(p)
		}
		insts := load.Instances([]string{arg}, &load.Config{Dir: dir})
		for _, inst := range insts {
			if inst.Err != nil {
				problems = append(problems, fromError(inst.Err)...)
				continue
			}
			if ps := append(imports(inst), longLists(inst, maxList)...); len(ps) > 0 {
				problems = append(problems, ps...)
				continue
			}
			v := ctx.BuildInstance(inst)
			if err := v.Err(); err != nil {
				problems = append(problems, fromError(err)...)
				continue
			}
			written := v // its positions are the policy's own
			v = v.Unify(schema)
			if err := v.Validate(); err != nil {
				problems = append(problems, fromError(err)...)
				continue
			}
			rules, ps := readRules(v, written, known)
			problems = append(problems, ps...)
			set.Rules = append(set.Rules, rules...)
			exceptions, ps := readExceptions(v, written)
			problems = append(problems, ps...)
			set.Exceptions = append(set.Exceptions, exceptions...)
		}
	}
	return set, problems
}

// imports refuses every import but the standard library's, and its tool packages, which
// run commands.
func imports(inst *build.Instance) (problems []Problem) {
	for _, f := range inst.Files {
		for spec := range f.ImportSpecs() {
			path, _ := strconv.Unquote(spec.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") || first == "tool" {
				problems = append(problems, Problem{spec.Pos().Position(), fmt.Sprintf("a policy may import the standard library only, and none of tool/...: %q", path)})
			}
		}
	}
	return problems
}

// longLists reports each list literal of more than max elements, and each struct literal
// of more fields (see [node.OverLimits]).
func longLists(inst *build.Instance, max int) (problems []Problem) {
	for _, f := range inst.Files {
		node.OverLimits(f, max, func(pos token.Pos, _ []string, msg string) {
			problems = append(problems, Problem{pos.Position(), msg})
		})
	}
	return problems
}

func fromError(err error) (out []Problem) {
	for _, e := range errors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if p := e.Path(); len(p) > 0 {
			msg = strings.Join(p, ".") + ": " + msg
		}
		out = append(out, Problem{e.Position().Position(), msg})
	}
	return out
}

func readRules(v, written cue.Value, known func([]string) (bool, string)) (rules []*Rule, problems []Problem) {
	it, err := v.LookupPath(cue.ParsePath("rules")).Fields()
	if err != nil {
		return nil, nil
	}
	for it.Next() {
		sel := it.Selector()
		r := &Rule{Name: sel.Unquoted(), At: written.LookupPath(cue.MakePath(cue.Str("rules"), sel)).Pos().Position()}
		rv := it.Value()
		_ = rv.LookupPath(cue.ParsePath("doc")).Decode(&r.Doc)
		_ = rv.LookupPath(cue.ParsePath("envs")).Decode(&r.Envs)
		_ = rv.LookupPath(cue.ParsePath("families")).Decode(&r.Families)
		r.check = rv.LookupPath(cue.ParsePath("check"))
		problems = append(problems, unknownFields(r.check, nil, known)...)
		rules = append(rules, r)
	}
	return rules, problems
}

// unknownFields reports each field of a check that the API has not.
func unknownFields(v cue.Value, path []string, known func([]string) (bool, string)) (problems []Problem) {
	switch v.IncompleteKind() {
	case cue.StructKind:
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return nil
		}
		for it.Next() {
			p := append(slices.Clone(path), it.Selector().Unquoted())
			if len(path) > 0 && slices.Contains([]string{"options", "tags"}, path[len(path)-1]) {
				continue // free-form keys
			}
			if ok, suggestion := known(p); !ok {
				msg := fmt.Sprintf("check.%s: the API has no such field", strings.Join(p, "."))
				if suggestion != "" {
					msg += fmt.Sprintf("; did you mean %q?", suggestion)
				}
				problems = append(problems, Problem{it.Value().Pos().Position(), msg})
				continue
			}
			problems = append(problems, unknownFields(it.Value(), p, known)...)
		}
	case cue.ListKind:
		if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
			problems = append(problems, unknownFields(e, append(slices.Clone(path), "*"), known)...)
		}
	}
	return problems
}

func readExceptions(v, written cue.Value) (out []*Exception, problems []Problem) {
	list, err := v.LookupPath(cue.ParsePath("exceptions")).List()
	if err != nil {
		return nil, nil
	}
	for i := 0; list.Next(); i++ {
		e := &Exception{At: written.LookupPath(cue.MakePath(cue.Str("exceptions"), cue.Index(i))).Pos().Position()}
		if err := list.Value().Validate(cue.Concrete(true)); err != nil {
			for _, p := range fromError(err) {
				if p.At.Line == 0 {
					p.At = e.At // a missing field has no place of its own
				}
				problems = append(problems, p)
			}
			continue
		}
		if err := list.Value().Decode(e); err != nil {
			problems = append(problems, fromError(err)...)
			continue
		}
		if e.Expires != "" {
			if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
				problems = append(problems, Problem{e.At, fmt.Sprintf("expires %q: not a date (YYYY-MM-DD)", e.Expires)})
			}
		}
		out = append(out, e)
	}
	return out, problems
}

// Violation is a daemon breaking a rule: Path is where in the API form (field names and
// list indexes), Msg what CUE says of it.
type Violation struct {
	Rule *Rule
	Path []any
	Msg  string
	// Expired is the exception that would have let it through, had it not expired.
	Expired *Exception
}

// Check checks the daemon of family in env, given as the CUE expression def of its API
// form, against every rule that applies, on the day today (YYYY-MM-DD). A violation an
// exception covers is let through; one whose exception has expired is reported with it.
func (s *Set) Check(family, env string, def ast.Expr, today string) (violations []Violation, excepted []string) {
	if s == nil || len(s.Rules) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data := s.ctx.BuildExpr(def)
	for _, r := range s.Rules {
		if !r.Applies(family, env) {
			continue
		}
		err := data.Unify(r.check).Validate(cue.Concrete(true))
		if err == nil {
			continue
		}
		exc := s.exception(family, env, r.Name)
		if exc != nil && (exc.Expires == "" || today <= exc.Expires) {
			exc.used = true
			excepted = append(excepted, r.Name)
			continue
		}
		for _, e := range errors.Errors(err) {
			format, args := e.Msg()
			var path []any
			for _, p := range e.Path() {
				if n, err := strconv.Atoi(p); err == nil {
					path = append(path, n)
				} else {
					path = append(path, p)
				}
			}
			msg := fmt.Sprintf(format, args...)
			if len(path) > 0 && !data.LookupPath(selectorPath(path)).Exists() {
				msg = "not set, and the rule requires it" // CUE says "incomplete value ..."
			}
			v := Violation{Rule: r, Path: path, Msg: msg}
			if exc != nil {
				exc.used = true
				v.Expired = exc
			}
			violations = append(violations, v)
		}
	}
	return violations, excepted
}

// selectorPath turns a path of field names and list indexes into a CUE path.
func selectorPath(path []any) cue.Path {
	var sels []cue.Selector
	for _, p := range path {
		switch p := p.(type) {
		case int:
			sels = append(sels, cue.Index(p))
		case string:
			sels = append(sels, cue.Str(p))
		}
	}
	return cue.MakePath(sels...)
}

// Applying returns the rules that apply to the daemon family in env.
func (s *Set) Applying(family, env string) []*Rule {
	if s == nil {
		return nil
	}
	var out []*Rule
	for _, r := range s.Rules {
		if r.Applies(family, env) {
			out = append(out, r)
		}
	}
	return out
}

// Applies reports whether rule r applies to the daemon family in env.
func (r *Rule) Applies(family, env string) bool {
	return (len(r.Envs) == 0 || slices.Contains(r.Envs, env)) && (len(r.Families) == 0 || slices.Contains(r.Families, family))
}

func (s *Set) exception(family, env, rule string) *Exception {
	for _, e := range s.Exceptions {
		if e.Family == family && e.Rule == rule && (e.Env == "" || e.Env == env) {
			return e
		}
	}
	return nil
}

// Unused returns the exceptions that let nothing through in a run.
func (s *Set) Unused() []*Exception {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Exception
	for _, e := range s.Exceptions {
		if !e.used {
			out = append(out, e)
		}
	}
	return out
}
