package gen

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/testcases"
)

var differentialN = flag.Int("differential-n", 1000, "how many mutations TestVetAgreesWithExportedSchema tries")

// TestVetAgreesWithExportedSchema mutates real agents' register files (every example
// output and the real-world agents of testdata/import) and requires daemongen vet and the
// exported schema, as cue vet -c -d '#DaemonTaskDefinition' applies it, to accept and
// reject the very same files. Mutations set values from a list that holds the edge cases
// (0.5e1, 2147483648, "", null, ...), remove fields, add unknown ones and repeat list
// elements, one to three at a time.
func TestVetAgreesWithExportedSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("many evaluations")
	}
	src, err := schema.CUE()
	if err != nil {
		t.Fatal(err)
	}
	def := cuecontext.New().CompileBytes(src, cue.Filename("schema.cue")).LookupPath(cue.ParsePath("#DaemonTaskDefinition"))
	var bases []any
	files := testcases.OutputFiles(t)
	imports, _ := filepath.Glob("testdata/import/*.json")
	for _, f := range append(files, imports...) {
		if strings.Contains(f, "describe") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		bases = append(bases, v)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	dir := t.TempDir()
	disagreements := 0
	for i := range *differentialN {
		doc := cloneJSON(bases[rng.IntN(len(bases))])
		for range 1 + rng.IntN(3) {
			doc = mutateJSON(rng, doc)
		}
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "x.json")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, diags, err := Generate(Config{Dir: dir, Paths: []string{"x.json"}, CheckOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		ours := !diags.HasErrors()
		theirs := vetWith(t, def, "x.json", data) == nil
		if ours != theirs {
			disagreements++
			if disagreements <= 10 {
				t.Errorf("mutation %d: daemongen accepts: %v, the schema accepts: %v\n%s\ndaemongen: %v", i, ours, theirs, data, diags)
			}
		}
	}
	if disagreements > 0 {
		t.Errorf("%d of %d mutations disagree", disagreements, *differentialN)
	}
}

// edgeValues are the values a mutation sets: the edge cases of the API's types, and the
// values the rules compare with (testcases.MutationValues, which the Go rules' test draws from).
var edgeValues = append([]any{
	json.Number("0"), json.Number("-1"), json.Number("4"), json.Number("64"), json.Number("0.5e1"),
	json.Number("6E0"), json.Number("0.512e3"), json.Number("512.5"), json.Number("2147483647"),
	json.Number("2147483648"), json.Number("1e3"), json.Number("120"), json.Number("121"),
	"", "x", "agent", "shared", "none", "host", "awslogs", "json-file", "HEALTHY", "START",
	"arn:aws:iam::123456789012:role/r", "1024", "512", "2GB", "CAP_SYS_ADMIN", "SYS_ADMIN",
	"/var/log", "busybox:latest", strings.Repeat("a", 256), true, false, nil,
	[]any{}, map[string]any{}, []any{"a"}, []any{json.Number("1")},
}, decodedMutationValues()...)

// edgeNumbers are the numbers of edgeValues.
var edgeNumbers = slices.DeleteFunc(slices.Clone(edgeValues), func(v any) bool {
	_, isNumber := v.(json.Number)
	return !isNumber
})

func decodedMutationValues() []any {
	var out []any
	for _, text := range testcases.MutationValues {
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			panic(err)
		}
		out = append(out, v)
	}
	return out
}

// mutateJSON changes one place of doc and returns it.
func mutateJSON(rng *rand.Rand, doc any) any {
	var places []func()
	var walk func(v any, set func(any))
	walk = func(v any, set func(any)) {
		places = append(places, func() {
			if n, isNumber := v.(json.Number); isNumber {
				switch rng.IntN(3) {
				case 0:
					set(edgeNumbers[rng.IntN(len(edgeNumbers))]) // a number's edge cases, more often
					return
				case 1:
					if !strings.ContainsAny(string(n), ".eE") {
						set(json.Number(string(n) + "e0")) // the same value, written as a float
						return
					}
				}
			}
			set(cloneJSON(edgeValues[rng.IntN(len(edgeValues))]))
		})
		switch v := v.(type) {
		case map[string]any:
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range v {
					if !yield(k) {
						return
					}
				}
			})
			places = append(places, func() { v["bogus"] = json.Number("1") })
			for _, k := range keys {
				places = append(places, func() { delete(v, k) })
				walk(v[k], func(x any) { v[k] = x })
			}
		case []any:
			for i := range v {
				places = append(places, func() { set(append(slices.Clone(v), cloneJSON(v[i]))) })
				walk(v[i], func(x any) { v[i] = x })
			}
		}
	}
	walk(doc, func(x any) { doc = x })
	places[rng.IntN(len(places))]()
	return doc
}

func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = cloneJSON(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneJSON(x)
		}
		return out
	}
	return v
}
