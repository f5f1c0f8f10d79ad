package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	schemafs "github.com/daemongen/daemongen/cue"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/testcases"
)

// rulesAgree compares the Go rules with the schema's #Rules on one API-form daemon. It
// reports whether the Go rules were sure, and the findings both forms agreed on.
func rulesAgree(t testing.TB, e *Evaluator, name string, api *node.Node) (sure bool, agreed []Finding) {
	t.Helper()
	errs, warns, sure := CrossFieldRules(api)
	data := e.build(api)
	if data.Err() != nil {
		return false, nil
	}
	wantErrs, wantWarns, failed := e.schemaRules(data)
	if !sure {
		return false, nil
	}
	if failed != nil {
		t.Errorf("%s: the Go rules are sure, and the schema's rules fail: %v", name, failed)
		return true, nil
	}
	if d := cmp.Diff(wantErrs, errs, cmpopts.EquateEmpty()); d != "" {
		b, _ := json.Marshal(testcases.NodeJSON(api))
		t.Errorf("%s: errors differ (-schema +go):\n%s\n%s", name, d, b)
		return true, nil
	}
	if d := cmp.Diff(wantWarns, warns, cmpopts.EquateEmpty()); d != "" {
		b, _ := json.Marshal(testcases.NodeJSON(api))
		t.Errorf("%s: warnings differ (-schema +go):\n%s\n%s", name, d, b)
		return true, nil
	}
	return true, append(errs, warns...)
}

// minAgreedPerRule is how many inputs each rule must find something on, in both forms, for
// the comparison to speak for that rule.
const minAgreedPerRule = 5

// TestGoRulesMatchSchema checks that the Go rules find exactly what the schema's #Rules
// finds, in the same order, on every rule case, every example output, and thousands of
// mutations of them: fields removed, set to null or to a value of another kind, list
// elements repeated, and names and conditions swapped for ones the rules look for.
func TestGoRulesMatchSchema(t *testing.T) {
	e := NewEvaluator()
	inputs := testcases.RuleInputs(t)
	names := slices.Sorted(maps.Keys(inputs))
	rng := rand.New(rand.NewPCG(1, 2))
	compared, unsure, findings := 0, 0, 0
	perRule := map[string]int{} // the inputs each rule found something on, in both forms
	for _, name := range names {
		api := inputs[name]
		variants := []*node.Node{api}
		for range 12 {
			variants = append(variants, testcases.Mutate(rng, api))
		}
		for i, v := range variants {
			sure, agreed := rulesAgree(t, e, fmt.Sprintf("%s/mutation %d", name, i), v)
			if sure {
				compared++
				findings += len(agreed)
				seen := map[string]bool{}
				for _, f := range agreed {
					if !seen[f.ID] {
						seen[f.ID] = true
						perRule[f.ID]++
					}
				}
			} else {
				unsure++
			}
		}
	}
	// The comparison means something only if the rules found plenty, and the Go rules
	// were sure nearly always.
	if findings < 500 || unsure*20 > compared {
		t.Errorf("%d inputs compared with %d findings, %d left to the schema", compared, findings, unsure)
	}
	// and each rule found something on several inputs: a rule no input reaches is not
	// compared at all.
	for _, rl := range append(slices.Clone(errorRules), warningRules...) {
		if perRule[rl.id] < minAgreedPerRule {
			t.Errorf("rule %s: both forms found it on %d inputs, want at least %d", rl.id, perRule[rl.id], minAgreedPerRule)
		}
	}
	t.Logf("%d inputs compared with %d findings, %d left to the schema", compared, findings, unsure)
}

// FuzzGoRulesMatchSchema checks the Go rules against the schema's #Rules on any JSON
// object.
func FuzzGoRulesMatchSchema(f *testing.F) {
	inputs := testcases.RuleInputs(f)
	for _, tc := range testcases.RuleCases {
		b, _ := json.Marshal(testcases.NodeJSON(inputs[tc.Rule+"/bad"]))
		f.Add(b)
	}
	e := NewEvaluator()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := testcases.JSONObject(data)
		if !ok {
			return
		}
		rulesAgree(t, e, "input", node.FromJSON(v))
	})
}

// schemaRuleIDs reads the ids of #Rules' errors or warnings from the schema's syntax, in
// the order the schema writes them: one per entry of the list.Concat.
func schemaRuleIDs(t *testing.T, list string) []string {
	t.Helper()
	src, err := fs.ReadFile(schemafs.FS, "rules.cue")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile("rules.cue", src)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	ast.Walk(f, func(n ast.Node) bool {
		field, ok := n.(*ast.Field)
		if !ok {
			return true
		}
		if name, _, _ := ast.LabelName(field.Label); name != list {
			return true
		}
		call, ok := field.Value.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return false // the list's type, not its entries
		}
		entries, ok := call.Args[0].(*ast.ListLit)
		if !ok {
			t.Fatalf("#Rules.%s: list.Concat of something other than a list literal", list)
		}
		for _, entry := range entries.Elts {
			id := ""
			ast.Walk(entry, func(n ast.Node) bool {
				if f, ok := n.(*ast.Field); ok && id == "" {
					if name, _, _ := ast.LabelName(f.Label); name == "id" {
						if lit, ok := f.Value.(*ast.BasicLit); ok {
							id, _ = literal.Unquote(lit.Value)
						}
					}
				}
				return id == ""
			}, nil)
			if id == "" {
				t.Errorf("#Rules.%s: an entry at %s has no id", list, entry.Pos())
			}
			ids = append(ids, id)
		}
		return false
	}, nil)
	if len(ids) == 0 {
		t.Fatalf("#Rules.%s: no entries found", list)
	}
	return ids
}

// TestGoRulesFollowTheSchemaOrder holds the Go rules to #Rules entry by entry: the same ids,
// in the same order, errors and warnings alike, each id once.
func TestGoRulesFollowTheSchemaOrder(t *testing.T) {
	for list, rules := range map[string][]rule{"errors": errorRules, "warnings": warningRules} {
		var goIDs []string
		for _, rl := range rules {
			goIDs = append(goIDs, rl.id)
		}
		if d := cmp.Diff(schemaRuleIDs(t, list), goIDs); d != "" {
			t.Errorf("#Rules.%s and the Go rules differ (-schema +go):\n%s", list, d)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(goIDs)))) != len(goIDs) {
			t.Errorf("#Rules.%s: an id names two rules: %v", list, goIDs)
		}
	}
}

// TestEveryErrorRuleHasARuleCase requires, for every error rule, a rule case whose failing
// input breaks that rule and whose passing input does not, as every warning has.
func TestEveryErrorRuleHasARuleCase(t *testing.T) {
	inputs := testcases.RuleInputs(t)
	has := func(name, id string) bool {
		errs, _, _ := CrossFieldRules(inputs[name])
		return slices.ContainsFunc(errs, func(f Finding) bool { return f.ID == id })
	}
	for _, rl := range errorRules {
		if !slices.ContainsFunc(testcases.RuleCases, func(tc testcases.RuleCase) bool {
			return tc.Warning == "" && has(tc.Rule+"/bad", rl.id) && !has(tc.Rule+"/ok", rl.id)
		}) {
			t.Errorf("error rule %s has no case in internal/testcases whose bad input breaks it and whose ok input keeps it", rl.id)
		}
	}
}

// TestCheckLeavesItsInputAlone checks every rule input, with an unknown and an unsupported
// field added to each container, and requires the input to be exactly as it was: the shape
// check prunes a copy, so that what a caller keys or renders is what it passed.
func TestCheckLeavesItsInputAlone(t *testing.T) {
	e := NewEvaluator()
	inputs := testcases.RuleInputs(t)
	pruned := 0
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		api := inputs[name].Clone()
		for _, c := range api.Get("containerDefinitions").ListElems() {
			if c.Kind == node.Struct {
				c.Set("imageTag", node.NewString("latest", c.Pos))
				c.Set("links", &node.Node{Kind: node.List, Pos: c.Pos})
			}
		}
		before := api.Clone()
		diags := e.Check(api, false)
		if !node.Equal(before, api) || !bytes.Equal(encoding.Render(before), encoding.Render(api)) {
			t.Errorf("%s: Check changed its input", name)
		}
		if len(api.Get("containerDefinitions").ListElems()) > 0 {
			pruned++
			if !diags.HasErrors() {
				t.Errorf("%s: an unknown field in a container was not reported", name)
			}
		}
	}
	if pruned == 0 {
		t.Fatal("no input had a container to add fields to")
	}
}
