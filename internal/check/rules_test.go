package check

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/testcases"
)

// rulesAgree compares the Go rules with the schema's #Rules on one API-form daemon. It
// reports whether the Go rules were sure, and how many findings they agreed on.
func rulesAgree(t testing.TB, e *Evaluator, name string, api *node.Node) (sure bool, findings int) {
	t.Helper()
	errs, warns, sure := CrossFieldRules(api)
	data := e.build(api)
	if data.Err() != nil {
		return false, 0
	}
	wantErrs, wantWarns, failed := e.schemaRules(data)
	if !sure {
		return false, 0
	}
	if failed != nil {
		t.Errorf("%s: the Go rules are sure, and the schema's rules fail: %v", name, failed)
		return true, 0
	}
	if d := cmp.Diff(wantErrs, errs, cmpopts.EquateEmpty()); d != "" {
		b, _ := json.Marshal(testcases.NodeJSON(api))
		t.Errorf("%s: errors differ (-schema +go):\n%s\n%s", name, d, b)
	}
	if d := cmp.Diff(wantWarns, warns, cmpopts.EquateEmpty()); d != "" {
		b, _ := json.Marshal(testcases.NodeJSON(api))
		t.Errorf("%s: warnings differ (-schema +go):\n%s\n%s", name, d, b)
	}
	return true, len(errs) + len(warns)
}

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
	for _, name := range names {
		api := inputs[name]
		variants := []*node.Node{api}
		for range 12 {
			variants = append(variants, testcases.Mutate(rng, api))
		}
		for i, v := range variants {
			sure, n := rulesAgree(t, e, fmt.Sprintf("%s/mutation %d", name, i), v)
			if sure {
				compared++
				findings += n
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
