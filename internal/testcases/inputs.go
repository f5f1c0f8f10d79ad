package testcases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"

	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// ruleCaseNodes are the rule cases' passing and failing inputs as nodes, by name (RULE/ok,
// RULE/bad), compiled once for every test and mutation pool that reads them.
var ruleCaseNodes = sync.OnceValues(func() (map[string]*node.Node, error) {
	ctx := cuecontext.New()
	out := map[string]*node.Node{}
	for _, tc := range RuleCases {
		for name, text := range map[string]string{tc.Rule + "/ok": tc.OK, tc.Rule + "/bad": strings.ReplaceAll(tc.Bad, Marker, "")} {
			v := ctx.CompileString(text)
			if v.Err() != nil {
				return nil, fmt.Errorf("%s: %v", name, v.Err())
			}
			n, diags := encoding.FromCUE(v)
			if diags.HasErrors() {
				return nil, fmt.Errorf("%s: %v", name, diags)
			}
			out[name] = n
		}
	}
	return out, nil
})

// RuleInputs returns every rule case (its passing and its failing input) and every example
// output, as API-form nodes of the caller's own.
func RuleInputs(t testing.TB) map[string]*node.Node {
	t.Helper()
	cases, err := ruleCaseNodes()
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]*node.Node{}
	for name, n := range cases {
		inputs[name] = n.Clone()
	}
	if tt, ok := t.(*testing.T); ok {
		ctx := cuecontext.New()
		for _, file := range OutputFiles(tt) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			expr, err := cuejson.Extract(file, b)
			if err != nil {
				t.Fatal(err)
			}
			n, diags := encoding.FromCUE(ctx.BuildExpr(expr))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			inputs[file] = n
		}
	}
	return inputs
}

// Mutate returns a copy of n with one to three random changes of the kinds the rules
// look at.
func Mutate(rng *rand.Rand, n *node.Node) *node.Node {
	c := n.Clone()
	for range 1 + rng.IntN(3) {
		var spots []*node.Node
		var walk func(*node.Node)
		walk = func(x *node.Node) {
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
		case x.Kind == node.Struct && len(x.Fields) > 0 && rng.IntN(3) == 0:
			i := rng.IntN(len(x.Fields))
			x.Fields = slices.Delete(x.Fields, i, i+1)
		case x.Kind == node.List && len(x.Elems) > 0 && rng.IntN(2) == 0:
			x.Elems = append(x.Elems, x.Elems[rng.IntN(len(x.Elems))].Clone())
		case x.Kind == node.Struct && len(x.Fields) > 0:
			f := x.Fields[rng.IntN(len(x.Fields))]
			f.Value = mutationValue(rng, f.Value)
		case x.Kind == node.List && len(x.Elems) > 0:
			i := rng.IntN(len(x.Elems))
			x.Elems[i] = mutationValue(rng, x.Elems[i])
		}
	}
	return c
}

// MutationValues are values the rules compare with, beside the schema's enums and the rule
// cases' own values (see mutationPool): container, volume and option names,
// conditions, drivers and capabilities.
var MutationValues = []string{
	`null`, `"a"`, `"b"`, `"app"`, `"logs"`, `"x"`, `5`, `0`, `64`, `64.5`, `200`, `true`, `false`, `[]`, `{}`, `["CMD"]`,
	`"awslogs"`, `"splunk"`, `"awsfirelens"`, `"json-file"`, `"START"`, `"COMPLETE"`, `"SUCCESS"`, `"HEALTHY"`,
	`"PERFMON"`, `"shared"`, `"s3"`, `"256"`, `"2GB"`, `"1 vCPU"`, `"64"`, `"noexec"`, `"mode=1777"`,
	`"kernel.shmmax"`, `"123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:1"`, `"splunk-token"`,
	`{"name": "a"}`, `{"containerName": "a", "condition": "HEALTHY"}`, `{"containerName": "b", "condition": "COMPLETE"}`,
	`{"sourceVolume": "nope", "containerPath": "/x"}`, `{"key": "k"}`, `{"name": "nofile", "softLimit": 1, "hardLimit": 1}`,
	`{"type": "fluentbit"}`, `{"logDriver": "splunk"}`, `{"logDriver": "awslogs"}`, `{"command": ["X"], "timeout": 40}`,
}

// mutationPool is what Mutate draws values from: MutationValues, every enum value of the
// schema, and every scalar of the rule cases (the names, drivers and conditions the rules
// compare), in a fixed order so that a seed gives the same mutations on every run.
var mutationPool = sync.OnceValue(func() []*node.Node {
	var pool []*node.Node
	seen := map[string]bool{}
	add := func(n *node.Node) {
		key := fmt.Sprint(n.Kind) + "\x00" + n.Text + "\x00" + n.Literal()
		if !seen[key] {
			seen[key] = true
			pool = append(pool, n)
		}
	}
	for _, text := range MutationValues {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			panic(err)
		}
		add(node.FromJSON(v))
	}
	index := schema.Index()
	for _, path := range slices.Sorted(maps.Keys(index)) {
		fields := index[path].Fields
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			for _, e := range append(slices.Clone(fields[name].Enum), fields[name].ElemEnum...) {
				add(node.NewString(e, token.NoPos))
			}
		}
	}
	cases, _ := ruleCaseNodes() // a case that does not compile fails RuleInputs' tests
	for _, tc := range RuleCases {
		for _, name := range []string{tc.Rule + "/ok", tc.Rule + "/bad"} {
			n, ok := cases[name]
			if !ok {
				continue
			}
			var walk func(n *node.Node)
			walk = func(n *node.Node) {
				switch n.Kind {
				case node.List:
					for _, e := range n.Elems {
						walk(e)
					}
				case node.Struct:
					for _, f := range n.Fields {
						walk(f.Value)
					}
				default:
					add(n.Clone())
				}
			}
			walk(n)
		}
	}
	return pool
})

func mutationValue(rng *rand.Rand, old *node.Node) *node.Node {
	pool := mutationPool()
	n := pool[rng.IntN(len(pool))].Clone()
	n.Pos = old.Pos
	return n
}

// JSONObject decodes data when it is one JSON object, numbers as written.
func JSONObject(data []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) != nil || v == nil {
		return nil, false
	}
	return v, true
}

// NodeJSON turns a Node back into a value for encoding/json.
func NodeJSON(n *node.Node) any {
	switch n.Kind {
	case node.Bool:
		return n.Bool
	case node.Number:
		return json.Number(n.Text)
	case node.String:
		return n.Text
	case node.List:
		out := []any{}
		for _, e := range n.Elems {
			out = append(out, NodeJSON(e))
		}
		return out
	case node.Struct:
		out := map[string]any{}
		for _, f := range n.Fields {
			out[f.Name] = NodeJSON(f.Value)
		}
		return out
	}
	return nil
}

// OutputFiles lists every committed example output.
func OutputFiles(t *testing.T) []string {
	t.Helper()
	root := Root(t)
	files, err := filepath.Glob(filepath.Join(root, "examples/*/out/*.json"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(root, "examples/*/out/*/*.json"))
	// The command's own files (its manifest) start with a dot and are not outputs.
	files = slices.DeleteFunc(append(files, more...), func(f string) bool { return strings.HasPrefix(filepath.Base(f), ".") })
	if len(files) == 0 {
		t.Fatal("no example outputs found")
	}
	return files
}

// Root returns the module's root folder, wherever in it a test runs.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
