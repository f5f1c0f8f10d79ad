package schema_test

import (
	"os"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/testcases"
)

// TestLeanFieldsAcceptWhatFieldsAccept checks, on every rule case (both its passing and its
// failing input) and every example output, that #Fields without its error messages accepts
// exactly the data #Fields accepts, so that the fast path never changes a verdict.
func TestLeanFieldsAcceptWhatFieldsAccept(t *testing.T) {
	ctx := cuecontext.New()
	_, fields, _ := schema.Compile(ctx)
	lean := schema.CompileLeanFields(ctx)
	if src, _ := schema.Lean(); strings.Contains(string(src), "| error(") {
		t.Error("the lean schema still has error alternatives")
	}
	inputs := map[string]string{}
	for _, tc := range testcases.RuleCases {
		inputs[tc.Rule+"/ok"] = tc.OK
		inputs[tc.Rule+"/bad"] = strings.ReplaceAll(tc.Bad, testcases.Marker, "")
	}
	for _, file := range testcases.OutputFiles(t) {
		b, _ := os.ReadFile(file)
		inputs[file] = string(b)
	}
	rejected := 0
	for name, text := range inputs {
		data := ctx.CompileString(text)
		full := data.Unify(fields).Validate(cue.Concrete(true)) == nil
		if full != (data.Unify(lean).Validate(cue.Concrete(true)) == nil) {
			t.Errorf("%s: #Fields accepts it: %v; the lean #Fields disagrees", name, full)
		}
		if !full {
			rejected++
		}
	}
	if rejected < 30 {
		t.Errorf("only %d inputs are rejected; the comparison needs failing inputs too", rejected)
	}
}
