package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/check"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/load"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/policy"
	"github.com/daemongen/daemongen/internal/schema"
)

// PolicyFolder is where daemongen finds an organisation's policy without --policy: the
// folder of this name at the root of the repository or CUE module the run starts in (the
// nearest folder above Dir holding .git or cue.mod).
const PolicyFolder = "policy"

// defaultPolicy returns the policy folder that applies to a run from dir, if there is one.
func defaultPolicy(dir string) string {
	for d := dir; d != ""; d = filepath.Dir(d) {
		for _, marker := range []string{".git", "cue.mod"} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				p := filepath.Join(d, PolicyFolder)
				if info, err := os.Stat(p); err == nil && info.IsDir() {
					return p
				}
				return ""
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return ""
}

// loadPolicies reads the run's policies: cfg.Policies, or the default policy folder. A
// policy that does not compile, or constrains a field the API lacks, is an error at its
// own line, before any daemon is checked.
func loadPolicies(cfg Config) (*policy.Set, hcl.Diagnostics) {
	paths := slices.Clone(cfg.Policies)
	if len(paths) == 0 {
		if p := defaultPolicy(cfg.Dir); p != "" {
			paths = []string{p}
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	var diags hcl.Diagnostics
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			paths[i] = filepath.Join(cfg.Dir, p)
		}
		files := []string{paths[i]}
		if info, err := os.Stat(paths[i]); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("--policy %s: no such file or folder", p)})
			continue
		} else if info.IsDir() {
			files, _ = filepath.Glob(filepath.Join(paths[i], "*.cue"))
		}
		for _, f := range files {
			if _, d := load.ReadInput(f); d != nil { // bounded like a spec
				diags = append(diags, d)
			}
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	set, problems := policy.Load(paths, knownAPIPath, node.MaxListLength)
	for _, p := range problems {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: p.Msg, Subject: diag.PositionRange(p.At)})
	}
	return set, diags
}

// knownAPIPath reports whether the API form has the field at path (names, * for a list's
// elements), as a policy's check names it, and suggests the field meant when it has not.
func knownAPIPath(path []string) (ok bool, suggestion string) {
	last := path[len(path)-1]
	if last == "*" {
		return true, ""
	}
	idx, found := schema.Index()[strings.Join(path[:len(path)-1], ".")]
	if !found {
		return false, ""
	}
	if _, known := idx.Fields[last]; known {
		return true, ""
	}
	return false, diag.Suggest(last, idx.Order)
}

// policyDiags checks a daemon in API form against the run's policies: each violation is
// an error at the value that breaks the rule (the layer that set it), naming the rule and
// where the policy says it. No ignoreWarnings silences it: only the policy's exceptions.
func policyDiags(set *policy.Set, api *Node, env, today string) (diags hcl.Diagnostics, violated, excepted []string) {
	family, _ := api.Get("family").Str()
	violations, excepted := set.Check(family, env, encoding.Expr(api), today)
	for _, v := range violations {
		if !slices.Contains(violated, v.Rule.Name) {
			violated = append(violated, v.Rule.Name)
		}
		msg := fmt.Sprintf("violates the policy rule %q (%s): ", v.Rule.Name, positionString(v.Rule.At))
		if v.Rule.Doc != "" {
			msg += v.Rule.Doc + "; "
		}
		msg += v.Msg
		if e := v.Expired; e != nil {
			msg += fmt.Sprintf("; its exception (%s) expired after %s", positionString(e.At), e.Expires)
		}
		diags = append(diags, check.DiagAt(api, v.Path, hcl.DiagError, msg))
	}
	return diags, violated, excepted
}

func positionString(p token.Position) string {
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
}

// unusedExceptions warns of the exceptions that let nothing through, among those whose
// family (and environment) the run generated: a stale exception is an open door.
func unusedExceptions(set *policy.Set, made func(env, family string) bool) (diags hcl.Diagnostics) {
	for _, e := range set.Unused() {
		if !made(e.Env, e.Family) {
			continue
		}
		d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "exceptions", Subject: diag.PositionRange(e.At),
			Detail: fmt.Sprintf("the exception for %s from the rule %q lets nothing through: %s does not break it; remove the exception", e.Family, e.Rule, e.Family)}
		diag.ExtraOf(d).WarningID = unusedExceptionID
		diags = append(diags, d)
	}
	return diags
}

// unusedExceptionID is the id of the warning for an exception that lets nothing through.
const unusedExceptionID = "unused-policy-exception"
