package gen

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	cuejson "cuelang.org/go/encoding/json"
	"cuelang.org/go/encoding/jsonschema"

	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/testcases"
)

// badRegister breaks a field rule (networkMode) and a cross-field rule (names repeat).
const badRegister = `{"family": "x", "networkMode": "awsvpc", "containerDefinitions": [
  {"name": "a", "image": "busybox", "memory": 64},
  {"name": "a", "image": "busybox", "memory": 64}]}`

// vetWith unifies a JSON document with def and validates it, as cue vet -c -d def does.
func vetWith(t *testing.T, def cue.Value, name string, data []byte) error {
	t.Helper()
	expr, err := cuejson.Extract(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return cuecontext.New().BuildExpr(expr).Unify(def).Validate(cue.Concrete(true))
}

// TestSchemaCUEValidates checks that the exported schema is one self-contained file whose
// #DaemonTaskDefinition accepts every example output and rejects field and cross-field
// mistakes, and, where the cue command is installed, that cue vet agrees.
func TestSchemaCUEValidates(t *testing.T) {
	src, err := schema.CUE()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "\npackage ") + strings.Count(string(src)[:min(len(src), 8)], "package"); n != 1 {
		t.Errorf("the merged schema has %d package clauses", n)
	}
	schema := cuecontext.New().CompileBytes(src, cue.Filename("schema.cue"))
	if err := schema.Err(); err != nil {
		t.Fatalf("the exported schema does not compile: %v", err)
	}
	def := schema.LookupPath(cue.ParsePath("#DaemonTaskDefinition"))
	for _, file := range testcases.OutputFiles(t) {
		data, _ := os.ReadFile(file)
		if err := vetWith(t, def, file, data); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	err = vetWith(t, def, "bad.json", []byte(badRegister))
	details := errors.Details(err, nil)
	for _, want := range []string{"do not support networkMode", `container name "a" is used by more than one container`} {
		if err == nil || !strings.Contains(details, want) {
			t.Errorf("bad.json: want an error with %q, got %s", want, details)
		}
	}

	cueCmd, lookErr := exec.LookPath("cue")
	if lookErr != nil {
		return
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "schema.cue"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(badRegister), 0o644)
	good, _ := filepath.Abs(testcases.OutputFiles(t)[0])
	if out, err := exec.Command(cueCmd, "vet", "-c", "-d", "#DaemonTaskDefinition", filepath.Join(dir, "schema.cue"), good).CombinedOutput(); err != nil {
		t.Errorf("cue vet rejects %s: %v\n%s", good, err, out)
	}
	if out, err := exec.Command(cueCmd, "vet", "-c", "-d", "#DaemonTaskDefinition", filepath.Join(dir, "schema.cue"), filepath.Join(dir, "bad.json")).CombinedOutput(); err == nil {
		t.Errorf("cue vet accepts bad.json:\n%s", out)
	}
}

// TestSchemaJSONSchemaValidates reads the JSON Schema back with CUE's JSON Schema decoder
// and checks that it accepts every example output and rejects an unsupported field.
func TestSchemaJSONSchemaValidates(t *testing.T) {
	src, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"$schema": "https://json-schema.org/draft/2020-12/schema"`, `"description": "timeout for one check, in seconds. Optional; 2 to 60; default 5."`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the JSON Schema lacks %s", want)
		}
	}
	ctx := cuecontext.New()
	expr, err := cuejson.Extract("schema.json", src)
	if err != nil {
		t.Fatal(err)
	}
	file, err := jsonschema.Extract(ctx.BuildExpr(expr), &jsonschema.Config{})
	if err != nil {
		t.Fatalf("CUE cannot read the JSON Schema: %v", err)
	}
	def := ctx.BuildFile(file)
	if err := def.Err(); err != nil {
		t.Fatal(err)
	}
	for _, file := range testcases.OutputFiles(t) {
		data, _ := os.ReadFile(file)
		if err := vetWith(t, def, file, data); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	if err := vetWith(t, def, "bad.json", []byte(badRegister)); err == nil {
		t.Error("the JSON Schema accepts networkMode")
	}
}

// cueWording maps the messages CUE gives for the shape of data to daemongen's.
var cueWording = map[string]string{
	"field not allowed":                 "unknown field",
	"field is required but not present": "missing required field",
}

// TestExportedSchemaNeverCrashesCueVet runs cue vet, where it is installed, on inputs that
// made cue v0.17.1 crash on the exported schema: it must report an error, not panic.
func TestExportedSchemaNeverCrashesCueVet(t *testing.T) {
	cueCmd, err := exec.LookPath("cue")
	if err != nil {
		t.Skip("no cue command")
	}
	src, err := schema.CUE()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	schemaFile := filepath.Join(dir, "schema.cue")
	if err := os.WriteFile(schemaFile, src, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, input := range []string{
		`{"family":"x","tags":[{"key":"a"}]}`,
		`{"family":"x","tags":[{"key":"a","value":"b"}]}`,
		`{"family":"x"}`,
		`{"family":"x","volumes":[{"name":"v"}],"tags":[{"key":"a"},{"key":"a"}]}`,
	} {
		file := filepath.Join(dir, fmt.Sprintf("in%d.json", i))
		if err := os.WriteFile(file, []byte(input), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(cueCmd, "vet", "-c", "-d", "#DaemonTaskDefinition", schemaFile, file).CombinedOutput()
		if err == nil || bytes.Contains(out, []byte("panic:")) || !bytes.Contains(out, []byte("containerDefinitions")) {
			t.Errorf("cue vet of %s: %v\n%.2000s", input, err, out)
		}
	}
}

// TestExportedSchemaReportsExactlyTheRealErrors vets every failing rule case with the
// exported schema, as cue vet -c -d '#DaemonTaskDefinition' does, and requires each error
// to be the one daemongen reports for it: no false errors from the cross-field rules.
func TestExportedSchemaReportsExactlyTheRealErrors(t *testing.T) {
	src, err := schema.CUE()
	if err != nil {
		t.Fatal(err)
	}
	ctx := cuecontext.New()
	def := ctx.CompileBytes(src, cue.Filename("schema.cue")).LookupPath(cue.ParsePath("#DaemonTaskDefinition"))
	cueCmd, _ := exec.LookPath("cue")
	dir := t.TempDir()
	schemaFile := filepath.Join(dir, "schema.cue")
	if err := os.WriteFile(schemaFile, src, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tc := range testcases.RuleCases {
		if tc.Warning != "" || tc.Rule == "family fits a file name" { // a daemongen output rule, not the API's
			continue
		}
		t.Run(tc.Rule, func(t *testing.T) {
			data := ctx.CompileString(strings.ReplaceAll(tc.Bad, testcases.Marker, ""))
			if cueCmd != "" {
				// The cue command itself: it fails, and names no field of the schema's own.
				// Through daemongen's own conversion, which keeps a float a float
				// (0.512e3 is 512.0, where MarshalJSON writes 512).
				node, ds := encoding.FromCUE(data)
				if ds.HasErrors() {
					t.Fatal(ds)
				}
				b := encoding.Render(node)
				bad := filepath.Join(dir, fmt.Sprintf("bad%d.json", i))
				os.WriteFile(bad, b, 0o644)
				out, err := exec.Command(cueCmd, "vet", "-c", "-d", "#DaemonTaskDefinition", schemaFile, bad).CombinedOutput()
				if err == nil {
					t.Errorf("cue vet accepts it")
				}
				if bytes.Contains(out, []byte("panic:")) {
					t.Errorf("cue vet crashes:\n%.2000s", out)
				}
				if m := regexp.MustCompile(`(?m)^\S*(\._|\.#|^_)\S*:`).Find(out); m != nil {
					t.Errorf("cue vet names an internal field: %s", out)
				}
			}
			err := data.Unify(def).Validate(cue.Concrete(true))
			errs := errors.Errors(err)
			if len(errs) == 0 {
				t.Fatalf("no error; daemongen reports %s", tc.Want)
			}
			for _, e := range errs {
				f, a := e.Msg()
				msg := fmt.Sprintf(f, a...)
				if path := errors.Path(e); len(path) == 0 {
					_, msg, _ = strings.Cut(msg, ": ") // a rule's message starts with its own path
				}
				for _, p := range errors.Path(e) {
					if strings.HasPrefix(p, "_") || strings.HasPrefix(p, "#") {
						t.Errorf("cue vet reports an internal field: %s", strings.Join(errors.Path(e), "."))
					}
				}
				if _, rest, ok := strings.Cut(msg, ": "); ok && !strings.Contains(tc.Want, msg) {
					msg = rest // an error of a struct names its field first
				}
				if w, ok := cueWording[msg]; ok {
					msg = w
				}
				if strings.HasPrefix(msg, "must be one of ") && strings.Contains(tc.Want, "unknown field") {
					msg = "unknown field" // the schema's own words for a closed set of option names
				}
				if !strings.Contains(tc.Want, msg) {
					t.Errorf("cue vet reports %s: %s; daemongen reports %s", strings.Join(errors.Path(e), "."), msg, tc.Want)
				}
			}
		})
	}
}
