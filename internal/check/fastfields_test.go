package check

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/testcases"
)

// fieldsVerdicts checks one API-form daemon, as the evaluator does after its shape check,
// with the Go fast path and with CUE's lean #Fields. It fails the test when the fast path
// accepts what CUE rejects.
func fieldsVerdicts(t testing.TB, ctx *cue.Context, lean cue.Value, name string, api *node.Node) (fast, schema bool) {
	t.Helper()
	api, _ = CheckShape(api, api, nil, false)
	fast = FastFields().accepts(api)
	data := ctx.BuildExpr(encoding.Expr(api))
	schema = data.Err() == nil && data.Unify(lean).Validate(cue.Concrete(true)) == nil
	if fast && !schema {
		b, _ := json.Marshal(testcases.NodeJSON(api))
		t.Errorf("%s: the fast path accepts what #Fields rejects:\n%s", name, b)
	}
	return fast, schema
}

// TestFastFieldsAcceptOnlyWhatFieldsAccepts checks the fast path against #Fields on every
// rule case, every example output and thousands of mutations of them: it never accepts
// what #Fields rejects, and it accepts nearly everything #Fields accepts, so that it is
// the fast path in fact.
func TestFastFieldsAcceptOnlyWhatFieldsAccepts(t *testing.T) {
	ctx := cuecontext.New()
	lean := schema.CompileLeanFields(ctx)
	inputs := testcases.RuleInputs(t)
	names := slices.Sorted(maps.Keys(inputs))
	rng := rand.New(rand.NewPCG(3, 4))
	var asWritten, mutated [2]int // accepted by the fast path, by #Fields
	for _, name := range names {
		fast, schema := fieldsVerdicts(t, ctx, lean, name, inputs[name])
		if schema {
			asWritten[1]++
			if fast {
				asWritten[0]++
			}
		}
		for i := range 12 {
			fast, schema := fieldsVerdicts(t, ctx, lean, fmt.Sprintf("%s/mutation %d", name, i), testcases.Mutate(rng, inputs[name]))
			if schema {
				mutated[1]++
				if fast {
					mutated[0]++
				}
			}
		}
	}
	t.Logf("accepted by the fast path / by #Fields: %d/%d as written, %d/%d mutated", asWritten[0], asWritten[1], mutated[0], mutated[1])
	if asWritten[1] < 100 || asWritten[0]*100 < asWritten[1]*95 {
		t.Errorf("the fast path accepts only %d of the %d inputs #Fields accepts", asWritten[0], asWritten[1])
	}
}

// FuzzFastFields checks on any JSON object that the fast path accepts only what #Fields
// accepts.
func FuzzFastFields(f *testing.F) {
	inputs := testcases.RuleInputs(f)
	for _, tc := range testcases.RuleCases {
		for _, which := range []string{"/ok", "/bad"} {
			b, _ := json.Marshal(testcases.NodeJSON(inputs[tc.Rule+which]))
			f.Add(b)
		}
	}
	ctx := cuecontext.New()
	lean := schema.CompileLeanFields(ctx)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := testcases.JSONObject(data)
		if !ok {
			return
		}
		fieldsVerdicts(t, ctx, lean, "input", node.FromJSON(v))
	})
}
