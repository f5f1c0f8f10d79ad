package gen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daemongen/daemongen/internal/testcases"
)

// roundTrip imports files, writes the spec to a folder, generates from it, and returns
// the outputs by path.
func roundTrip(t *testing.T, cfg ImportConfig) (map[string][]byte, *Imported) {
	t.Helper()
	res, err := Import(cfg)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec."+cfg.To), res.Combined, 0o644); err != nil {
		t.Fatal(err)
	}
	files, diags, err := Generate(Config{Dir: dir, Paths: []string{"spec." + cfg.To}})
	if err != nil || diags.HasErrors() {
		t.Fatalf("generate from the imported spec: %v %v\n%s", err, diags, res.Combined)
	}
	return files, res
}

// jsonValue decodes a file for comparison.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// importCorpus lists the inputs of the round trip: the example outputs and real-world
// agents (testdata/import).
func importCorpus(t *testing.T) []string {
	files := testcases.OutputFiles(t)
	agents, _ := filepath.Glob("testdata/import/*.json")
	if len(agents) < 6 {
		t.Fatalf("the real-world corpus has %d agents", len(agents))
	}
	return append(files, agents...)
}

// TestImportRoundTrip imports every example output and every real-world agent, in CUE and
// in HCL, and requires generating from the result to give the input back.
func TestImportRoundTrip(t *testing.T) {
	for _, to := range []string{"cue", "hcl"} {
		for _, file := range importCorpus(t) {
			t.Run(to+"/"+filepath.ToSlash(file), func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				want := jsonValue(t, data)
				// Describe output: the definition without its read-only fields, with any
				// tags kept beside it (as tools that add them with --include TAGS do).
				if outer, ok := want.(map[string]any); ok {
					if d, ok := outer["daemonTaskDefinition"].(map[string]any); ok {
						for _, f := range readOnlyFields {
							delete(d, f)
						}
						if tags, ok := outer["tags"]; ok {
							d["tags"] = tags
						}
						want = d
					}
				}
				files, _ := roundTrip(t, ImportConfig{Files: []string{file}, To: to})
				if len(files) != 1 {
					t.Fatalf("got %d files", len(files))
				}
				for _, got := range files {
					if diff := cmp.Diff(want, jsonValue(t, got)); diff != "" {
						t.Errorf("the round trip changed the daemon (-input +generated):\n%s", diff)
					}
				}
			})
		}
	}
}

// TestImportFactor imports the dev and prod outputs of the metrics fleet as one spec: shared
// values once, the differences per environment, and both outputs reproduced.
func TestImportFactor(t *testing.T) {
	for _, to := range []string{"cue", "hcl"} {
		t.Run(to, func(t *testing.T) {
			inputs := []string{"../examples/metrics-agent/out/dev/datadog-agent.json", "../examples/metrics-agent/out/prod/datadog-agent.json"}
			files, res := roundTrip(t, ImportConfig{Files: inputs, To: to, Factor: true})
			for _, env := range []string{"dev", "prod"} {
				want, _ := os.ReadFile("../examples/metrics-agent/out/" + env + "/datadog-agent.json")
				if diff := cmp.Diff(string(want), string(files[env+"/datadog-agent.json"])); diff != "" {
					t.Errorf("%s differs (-input +generated):\n%s", env, diff)
				}
			}
			spec := string(res.Combined)
			// Shared once, differences per environment.
			if n := strings.Count(spec, "DD_SITE"); n != 1 {
				t.Errorf("DD_SITE, the same everywhere, appears %d times:\n%s", n, spec)
			}
			if !strings.Contains(spec, "7.57.2") || !strings.Contains(spec, "7.58.2") {
				t.Errorf("the per-environment images are missing:\n%s", spec)
			}
		})
	}
}

// TestImportFactorLeavesNoEmptyMap factors two environments whose secrets, environment
// and tags share nothing: the shared part must hold no empty map, and generating must give
// both inputs back.
func TestImportFactorLeavesNoEmptyMap(t *testing.T) {
	for _, to := range []string{"cue", "hcl"} {
		t.Run(to, func(t *testing.T) {
			inputs := []string{"testdata/factor/dev/agent.json", "testdata/factor/prod/agent.json"}
			files, res := roundTrip(t, ImportConfig{Files: inputs, To: to, Factor: true})
			for _, env := range []string{"dev", "prod"} {
				in, _ := os.ReadFile("testdata/factor/" + env + "/agent.json")
				var want, got any
				json.Unmarshal(in, &want)
				json.Unmarshal(files[env+"/agent.json"], &got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s differs (-input +generated):\n%s", env, diff)
				}
			}
			if spec := string(res.Combined); regexp.MustCompile(`(secrets|environment|tags)(:| =) \{\}`).MatchString(spec) {
				t.Errorf("an empty map in the factored spec:\n%s", spec)
			}
		})
	}
}

// TestImportDescribeOutput strips the read-only fields of describe output, with a note.
func TestImportDescribeOutput(t *testing.T) {
	res, err := Import(ImportConfig{Files: []string{"testdata/import/falco-describe.json"}, To: "cue"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "daemonTaskDefinitionArn, revision, status, registeredAt") {
		t.Errorf("notes: %q", res.Notes)
	}
	if strings.Contains(string(res.Combined), "revision") {
		t.Errorf("the spec keeps a read-only field:\n%s", res.Combined)
	}
}
