package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"
	cuejson "cuelang.org/go/encoding/json"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// rulesAgree compares the Go rules with the schema's #Rules on one API-form daemon. It
// reports whether the Go rules were sure, and how many findings they agreed on.
func rulesAgree(t testing.TB, e *evaluator, name string, api *Node) (sure bool, findings int) {
	t.Helper()
	errs, warns, sure := crossFieldRules(api)
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
		b, _ := json.Marshal(nodeJSON(api))
		t.Errorf("%s: errors differ (-schema +go):\n%s\n%s", name, d, b)
	}
	if d := cmp.Diff(wantWarns, warns, cmpopts.EquateEmpty()); d != "" {
		b, _ := json.Marshal(nodeJSON(api))
		t.Errorf("%s: warnings differ (-schema +go):\n%s\n%s", name, d, b)
	}
	return true, len(errs) + len(warns)
}

// ruleInputs returns every rule case (its passing and its failing input) and every example
// output, as API-form nodes.
func ruleInputs(t testing.TB) map[string]*Node {
	t.Helper()
	ctx := cuecontext.New()
	inputs := map[string]*Node{}
	add := func(name string, text string) {
		v := ctx.CompileString(text)
		if v.Err() != nil {
			t.Fatalf("%s: %v", name, v.Err())
		}
		n, diags := toNode(v, nil)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		inputs[name] = n
	}
	for _, tc := range ruleCases {
		add(tc.rule+"/ok", tc.ok)
		add(tc.rule+"/bad", strings.ReplaceAll(tc.bad, marker, ""))
	}
	if tt, ok := t.(*testing.T); ok {
		for _, file := range outputFiles(tt) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			expr, err := cuejson.Extract(file, b)
			if err != nil {
				t.Fatal(err)
			}
			n, diags := toNode(ctx.BuildExpr(expr), nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			inputs[file] = n
		}
	}
	return inputs
}

// TestGoRulesMatchSchema checks that the Go rules find exactly what the schema's #Rules
// finds, in the same order, on every rule case, every example output, and thousands of
// mutations of them: fields removed, set to null or to a value of another kind, list
// elements repeated, and names and conditions swapped for ones the rules look for.
func TestGoRulesMatchSchema(t *testing.T) {
	e := newEvaluator()
	inputs := ruleInputs(t)
	names := slices.Sorted(maps.Keys(inputs))
	rng := rand.New(rand.NewPCG(1, 2))
	compared, unsure, findings := 0, 0, 0
	for _, name := range names {
		api := inputs[name]
		variants := []*Node{api}
		for range 12 {
			variants = append(variants, mutate(rng, api))
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

// mutate returns a copy of n with one to three random changes of the kinds the rules
// look at.
func mutate(rng *rand.Rand, n *Node) *Node {
	c := n.Clone()
	for range 1 + rng.IntN(3) {
		var spots []*Node
		var walk func(*Node)
		walk = func(x *Node) {
			spots = append(spots, x)
			for _, e := range x.Elems {
				walk(e)
			}
			for _, f := range x.Fields {
				walk(f.Value)
			}
		}
		walk(c)
		x := spots[rng.IntN(len(spots))]
		switch {
		case x.Kind == Struct && len(x.Fields) > 0 && rng.IntN(3) == 0:
			i := rng.IntN(len(x.Fields))
			x.Fields = slices.Delete(x.Fields, i, i+1)
		case x.Kind == List && len(x.Elems) > 0 && rng.IntN(2) == 0:
			x.Elems = append(x.Elems, x.Elems[rng.IntN(len(x.Elems))].Clone())
		case x.Kind == Struct && len(x.Fields) > 0:
			f := x.Fields[rng.IntN(len(x.Fields))]
			f.Value = mutationValue(rng, f.Value)
		case x.Kind == List && len(x.Elems) > 0:
			i := rng.IntN(len(x.Elems))
			x.Elems[i] = mutationValue(rng, x.Elems[i])
		}
	}
	return c
}

// mutationValues are values the rules compare with: container, volume and option names,
// conditions, drivers and capabilities.
var mutationValues = []string{
	`null`, `"a"`, `"b"`, `"app"`, `"logs"`, `"x"`, `5`, `0`, `64`, `64.5`, `200`, `true`, `false`, `[]`, `{}`, `["CMD"]`,
	`"awslogs"`, `"splunk"`, `"awsfirelens"`, `"json-file"`, `"START"`, `"COMPLETE"`, `"SUCCESS"`, `"HEALTHY"`,
	`"PERFMON"`, `"shared"`, `"s3"`, `"256"`, `"2GB"`, `"1 vCPU"`, `"64"`, `"noexec"`, `"mode=1777"`,
	`"kernel.shmmax"`, `"123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:1"`, `"splunk-token"`,
	`{"name": "a"}`, `{"containerName": "a", "condition": "HEALTHY"}`, `{"containerName": "b", "condition": "COMPLETE"}`,
	`{"sourceVolume": "nope", "containerPath": "/x"}`, `{"key": "k"}`, `{"name": "nofile", "softLimit": 1, "hardLimit": 1}`,
	`{"type": "fluentbit"}`, `{"logDriver": "splunk"}`, `{"logDriver": "awslogs"}`, `{"command": ["X"], "timeout": 40}`,
}

func mutationValue(rng *rand.Rand, old *Node) *Node {
	var v any
	if err := json.Unmarshal([]byte(mutationValues[rng.IntN(len(mutationValues))]), &v); err != nil {
		panic(err)
	}
	n := fromJSON(v)
	n.Pos = old.Pos
	return n
}

// FuzzGoRulesMatchSchema checks the Go rules against the schema's #Rules on any JSON
// object.
func FuzzGoRulesMatchSchema(f *testing.F) {
	inputs := ruleInputs(f)
	for _, tc := range ruleCases {
		b, _ := json.Marshal(nodeJSON(inputs[tc.rule+"/bad"]))
		f.Add(b)
	}
	e := newEvaluator()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := jsonObject(data)
		if !ok {
			return
		}
		rulesAgree(t, e, "input", fromJSON(v))
	})
}

// jsonObject decodes data when it is one JSON object, numbers as written.
func jsonObject(data []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) != nil || v == nil {
		return nil, false
	}
	return v, true
}

// nodeJSON turns a Node back into a value for encoding/json.
func nodeJSON(n *Node) any {
	switch n.Kind {
	case Bool:
		return n.Bool
	case Number:
		return json.Number(n.Text)
	case String:
		return n.Text
	case List:
		out := []any{}
		for _, e := range n.Elems {
			out = append(out, nodeJSON(e))
		}
		return out
	case Struct:
		out := map[string]any{}
		for _, f := range n.Fields {
			out[f.Name] = nodeJSON(f.Value)
		}
		return out
	}
	return nil
}
