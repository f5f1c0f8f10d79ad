package gen

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/testcases"
)

// fuzzGenerate writes src as name in a new folder and generates it, checking what must
// hold for any input: no panic (the fuzzer reports one), every diagnostic inside the file,
// the same result twice, and outputs that are JSON objects daemongen reads back unchanged.
func fuzzGenerate(t *testing.T, name string, src []byte) (map[string][]byte, hcl.Diagnostics) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: dir, Paths: []string{name}, CheckOnly: true}
	files, diags, err := Generate(cfg)
	if err != nil {
		return nil, nil // a usage error, such as an empty folder
	}
	for _, d := range diags {
		if r := d.Subject; r != nil && r.Filename != "" && r.Filename != name {
			t.Errorf("diagnostic outside the input: %s", diag.FormatDiagnostic(d, dir))
		}
		if r := d.Subject; r != nil && r.Start.Byte > len(src)+1 {
			t.Errorf("diagnostic past the end of the input: %s", diag.FormatDiagnostic(d, dir))
		}
	}
	again, diags2, _ := Generate(cfg)
	if len(again) != len(files) || len(diags2) != len(diags) {
		t.Fatalf("two runs differ: %d/%d files, %d/%d diagnostics", len(files), len(again), len(diags), len(diags2))
	}
	for out, b := range files {
		if !bytes.Equal(again[out], b) {
			t.Fatalf("two runs give different %s", out)
		}
	}
	// An output is register-ready JSON, which daemongen reads back as it is (one output
	// per input: each check evaluates the schema again).
	if names := slices.Sorted(maps.Keys(files)); len(names) > 0 {
		out := names[0]
		back, _ := fuzzGenerateJSON(t, files[out])
		if !bytes.Equal(back, files[out]) {
			t.Fatalf("%s does not read back unchanged:\n%s\n---\n%s", out, files[out], back)
		}
	}
	return files, diags
}

// fuzzGenerateJSON vets data as an API-form JSON file and returns its output, if valid.
func fuzzGenerateJSON(t *testing.T, data []byte) ([]byte, hcl.Diagnostics) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	files, diags, err := Generate(Config{Dir: dir, Paths: []string{"x.json"}, CheckOnly: true})
	if err != nil || diags.HasErrors() || len(files) != 1 {
		return nil, diags
	}
	for _, b := range files {
		return b, diags
	}
	return nil, diags
}

// seedSpecs adds the examples' specs (of one extension) and the rule cases to a corpus.
func seedSpecs(f *testing.F, pattern string, rules bool) {
	specs, _ := filepath.Glob(pattern)
	for _, s := range specs {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	if rules {
		for _, tc := range testcases.RuleCases {
			f.Add([]byte(strings.ReplaceAll(tc.Bad, testcases.Marker, "")))
		}
		asWritten, _ := misspell(taggedCUESpec, "")
		f.Add([]byte(asWritten))
	}
}

// FuzzCUESpec generates arbitrary CUE specs.
func FuzzCUESpec(f *testing.F) {
	seedSpecs(f, "../examples/*/cue/*.cue", true)
	f.Add([]byte("package fleet\n\ndaemons: a: containers: a: {image: \"a:1\", memory: 64}\nenvironments: {dev: {}, prod: daemons: a: null}\n"))
	f.Add([]byte("package fleet\n\ndaemons: a: containers: {a: {image: \"a:1\", memory: 64, environment: X: \"1\"}, b: {image: \"b:1\", memory: 8}}\n" +
		"environments: {dev: daemons: a: containers: {b: null, a: environment: X: null}, prod: daemons: a: containers: c: {image: \"c:1\"}}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		fuzzGenerate(t, "spec.cue", src)
	})
}

// FuzzHCLSpec generates arbitrary HCL specs, through the whole pipeline (hclspec's own
// target, FuzzHCLToCUE, stops at the CUE it lowers to).
func FuzzHCLSpec(f *testing.F) {
	seedSpecs(f, "../examples/*/hcl/*.hcl", false)
	asWritten, _ := misspell(hclSpec, "")
	f.Add([]byte(asWritten))
	f.Fuzz(func(t *testing.T, src []byte) {
		fuzzGenerate(t, "spec.hcl", src)
	})
}

// FuzzJSONInput vets arbitrary API-form JSON files: an accepted file's output is
// accepted again and reads back unchanged.
func FuzzJSONInput(f *testing.F) {
	for _, file := range []string{"../examples/guide/out/log-collector.json", "testdata/import/datadog-agent.json"} {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, seed := range []string{`[]`, `{}`, `null`, `{"family": null, "containerDefinitions": null}`, "\xef\xbb\xbf{}", `{"family": "a", "containerDefinitions": [{"name": "a", "image": "a", "memory": 6}]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzGenerate(t, "x.json", data)
	})
}

// FuzzImportRoundTrip imports arbitrary register JSON: whenever the input is a valid
// daemon task definition, generating from the imported spec, in CUE and in HCL, gives
// the input's own output back.
func FuzzImportRoundTrip(f *testing.F) {
	agents, _ := filepath.Glob("testdata/import/*.json")
	for _, file := range append(agents, "../examples/guide/out/log-collector.json") {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, _ := fuzzGenerateJSON(t, data)
		if want == nil {
			return
		}
		dir := t.TempDir()
		in := filepath.Join(dir, "in.json")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{"cue", "hcl"} {
			res, err := Import(ImportConfig{Files: []string{in}, To: to})
			if err != nil {
				t.Fatalf("import to %s of a valid file: %v", to, err)
			}
			files, diags := fuzzGenerate(t, "spec."+to, res.Combined)
			if diags.HasErrors() || len(files) != 1 {
				t.Fatalf("the %s spec imported from a valid file does not generate: %v\n%s", to, diags, res.Combined)
			}
			for _, got := range files {
				if !bytes.Equal(got, want) {
					t.Fatalf("%s round trip differs:\n%s\n---\n%s\nspec:\n%s", to, want, got, res.Combined)
				}
			}
		}
	})
}
