package gen

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/hashicorp/hcl/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/testcases"
)

// ecmaRegexp is a JSON Schema pattern compiled as ECMA-262 (JavaScript) compiles it, as
// the JSON Schema specification and editors do.
type ecmaRegexp struct{ re *regexp2.Regexp }

func compileECMA(pattern string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecmaRegexp{re}, nil
}

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }

// compiledJSONSchema compiles the exported JSON Schema with a Draft 2020-12 validator
// whose patterns are ECMA-262 regexes.
func compiledJSONSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	src, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseRegexpEngine(compileECMA)
	if err := c.AddResource("daemon.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("daemon.schema.json")
	if err != nil {
		t.Fatalf("a Draft 2020-12 validator with ECMA-262 patterns rejects the schema: %v", err)
	}
	return sch
}

// TestJSONSchemaPatternsAreECMAScript compiles every pattern of the exported JSON Schema as
// an ECMA-262 regex, as editors do.
func TestJSONSchemaPatternsAreECMAScript(t *testing.T) {
	src, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	var patterns []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "pattern" {
					n++
					patterns = append(patterns, s)
					if _, err := regexp2.Compile(s, regexp2.ECMAScript); err != nil {
						t.Errorf("pattern %q is no ECMA-262 regex: %v", s, err)
					}
					// regexp2 accepts these, but ECMA-262 without the u flag (and Python)
					// reads them otherwise or not at all.
					if m := nonECMA.FindString(s); m != "" {
						t.Errorf("pattern %q uses %s, which ECMA-262 regexes without the u flag lack", s, m)
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Fatal("the schema has no patterns")
	}
	// Where Node is installed, compile each as a browser or editor does.
	node, err := exec.LookPath("node")
	if err != nil {
		return
	}
	list, _ := json.Marshal(patterns)
	script := "for (const p of JSON.parse(process.argv[1])) { try { new RegExp(p) } catch (e) { console.log(p + ': ' + e.message); process.exitCode = 1 } }"
	if out, err := exec.Command(node, "-e", script, string(list)).CombinedOutput(); err != nil {
		t.Errorf("Node's RegExp rejects patterns: %v\n%s", err, out)
	}
}

// nonECMA finds the RE2 constructs that ECMA-262 regexes without the u flag lack: inline
// flags such as (?i), and Unicode classes such as \p{L}.
var nonECMA = regexp.MustCompile(`\(\?[a-zA-Z]|\\[pP]\{`)

// TestJSONSchemaValidatesWithARealValidator validates every example output with a Draft
// 2020-12 validator, and rejects files that break field rules.
func TestJSONSchemaValidatesWithARealValidator(t *testing.T) {
	sch := compiledJSONSchema(t)
	for _, file := range testcases.OutputFiles(t) {
		data, _ := os.ReadFile(file)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	for _, bad := range []string{
		`{"family": "x", "containerDefinitions": [{"name": "a", "image": "b", "healthCheck": {"command": ["CMD", "true"], "timeout": 90}}]}`,
		`{"family": "x", "containerDefinitions": [{"name": "a", "image": "b"}], "tags": [{"key": "AWS:team"}]}`,
		`{"family": "x", "containerDefinitions": [{"name": "a", "image": "b", "secrets": [{"name": "T", "valueFrom": "arn:aws:s3:::b/t"}]}]}`,
		`{"family": "x", "networkMode": "awsvpc", "containerDefinitions": [{"name": "a", "image": "b"}]}`,
	} {
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		if err := sch.Validate(doc); err == nil {
			t.Errorf("the JSON Schema accepts %s", bad)
		}
	}
}

// TestJSONSchemaPassesPythonCheckSchema runs Python's jsonschema check_schema (Draft
// 2020-12, with its regex format check) where Python and the package are installed.
func TestJSONSchemaPassesPythonCheckSchema(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import jsonschema").Run() != nil {
		t.Skip("python3 with jsonschema is not installed")
	}
	src, err := schema.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schema, src, 0o644); err != nil {
		t.Fatal(err)
	}
	check := "import json, sys, jsonschema; jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))"
	if out, err := exec.Command(python, "-c", check, schema).CombinedOutput(); err != nil {
		t.Errorf("check_schema fails: %v\n%s", err, out)
	}
}

// TestSARIFValidates writes every rule case's diagnostics, errors and warnings, and an
// empty run, as SARIF, and validates each log against the SARIF 2.1.0 JSON Schema (OASIS,
// as GitHub code scanning reads it).
func TestSARIFValidates(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(mustOpen(t, "testdata/sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	const schemaURL = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	var all hcl.Diagnostics
	for _, tc := range testcases.RuleCases {
		diags, _ := vetText(t, tc.Bad)
		all = append(all, diags...)
	}
	all = append(all, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: "a problem without a place"})
	for _, diags := range []hcl.Diagnostics{nil, all} {
		var b bytes.Buffer
		if err := diag.WriteDiagnosticsAs(&b, diags, "", diag.FormatSARIF); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("the SARIF log of %d diagnostics does not validate: %v", len(diags), err)
		}
	}
	var b bytes.Buffer
	diag.WriteDiagnosticsAs(&b, all, "", diag.FormatSARIF)
	for _, want := range []string{`"ruleId": "invalid"`, `"level": "warning"`, `"uriBaseId": "%SRCROOT%"`, `"startLine":`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the SARIF log lacks %s", want)
		}
	}
}

func mustOpen(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
