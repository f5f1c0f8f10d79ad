package gen

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daemongen/daemongen/internal/diag"
)

var update = flag.Bool("update", false, "rewrite golden files and example outputs")

// readTree returns the files below dir by slash path, without the command's own files
// (its manifest), whose names start with a dot.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

// TestExamples checks that generating each example reproduces its committed output, file
// for file, from the CUE spec (`daemongen generate -o examples/NAME/out examples/NAME/cue`)
// and from the HCL one alike. -update rewrites the output from the CUE spec.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/cue")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		name := filepath.Base(filepath.Dir(dir))
		for _, lang := range []string{"cue", "hcl"} {
			t.Run(name+"/"+lang, func(t *testing.T) {
				t.Parallel()
				spec := filepath.Join(root, "examples", name, lang)
				if _, err := os.Stat(spec); err != nil {
					t.Fatalf("examples/%s has no %s form: %v", name, lang, err)
				}
				files, diags, err := Generate(Config{Dir: root, Paths: []string{"examples/" + name + "/" + lang}})
				if err != nil || diags.HasErrors() {
					t.Fatalf("generate: %v %v", err, diags)
				}
				for _, d := range diags {
					t.Errorf("unexpected warning: %s", diag.FormatDiagnostic(d, root))
				}
				out := filepath.Join(root, "examples", name, "out")
				if *update && lang == "cue" {
					writeTree(t, out, files)
				}
				if diff := cmp.Diff(readTree(t, out), files); diff != "" {
					t.Errorf("examples/%s/%s does not reproduce examples/%s/out; for the CUE form run go test ./gen -run TestExamples -update (-committed +generated):\n%s", name, lang, name, diff)
				}
			})
		}
	}
}

// writeTree replaces the outputs in dir with files.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name := range readTree(t, dir) {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	for p, b := range files {
		target := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeterministic generates the examples twice and requires identical bytes.
func TestDeterministic(t *testing.T) {
	root, _ := filepath.Abs("..")
	cfg := Config{Dir: root, Paths: []string{"examples/metrics-agent/cue", "examples/log-router/cue"}}
	first, _, err := Generate(cfg)
	if err != nil || len(first) == 0 {
		t.Fatalf("generate: %v, %d files", err, len(first))
	}
	second, _, _ := Generate(cfg)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("two runs differ:\n%s", diff)
	}
}

// TestExamplesAreFormatted keeps every spec under examples/ as daemongen fmt (cue fmt,
// terraform fmt) writes it.
func TestExamplesAreFormatted(t *testing.T) {
	var specs []string
	for _, pattern := range []string{"../examples/*/cue/*.cue", "../examples/*/hcl/*.hcl", "../examples/monorepo/*/*.cue", "../examples/monorepo/teams/*/*.cue"} {
		m, _ := filepath.Glob(pattern)
		specs = append(specs, m...)
	}
	if len(specs) == 0 {
		t.Fatal("no example specs found")
	}
	for _, name := range specs {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := Format(name, src)
		if diags.HasErrors() {
			t.Errorf("%s: %v", name, diags)
		} else if string(out) != string(src) {
			t.Errorf("%s is not formatted; run daemongen fmt %s", name, filepath.Dir(name))
		}
	}
}

// TestMonorepoExample generates examples/monorepo, whose team specs import the platform
// package of their CUE module, and requires its committed output. It runs from the
// repository root, outside the module, so the module must be found from the specs' own
// folders. -update rewrites the output.
func TestMonorepoExample(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files, diags, err := Generate(Config{Dir: root, Paths: []string{"examples/monorepo/teams/logging", "examples/monorepo/teams/security"}})
	if err != nil || diags.HasErrors() || len(files) == 0 {
		t.Fatalf("generate: %v %v", err, diags)
	}
	for _, d := range diags {
		t.Errorf("unexpected warning: %s", diag.FormatDiagnostic(d, root))
	}
	out := filepath.Join(root, "examples", "monorepo", "out")
	if *update {
		writeTree(t, out, files)
	}
	if diff := cmp.Diff(readTree(t, out), files); diff != "" {
		t.Errorf("examples/monorepo does not reproduce its out/; run go test ./gen -run TestMonorepoExample -update (-committed +generated):\n%s", diff)
	}
}
