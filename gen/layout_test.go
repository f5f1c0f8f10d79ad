package gen

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// stages are the module's packages below gen, in the order of the pipeline's layers: each
// may import only packages before it. The README's "Layout" lists them in this order.
var stages = []string{
	"internal/node",
	"internal/lang",
	"internal/safefile",
	"internal/diag",
	"cue",
	"internal/schema",
	"internal/encoding",
	"internal/lint",
	"internal/fleetcheck",
	"internal/policy",
	"internal/cache",
	"hclspec",
	"internal/load",
	"internal/spec",
	"internal/check",
	"internal/testcases",
}

// TestStagesImportOnlyEarlierStages reads the imports of every package below gen and fails
// on one that imports a later stage, or gen, or on a package that the list does not place.
func TestStagesImportOnlyEarlierStages(t *testing.T) {
	const module = "github.com/daemongen/daemongen/"
	dirs, err := filepath.Glob("../internal/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no packages under internal: %v", err)
	}
	for _, dir := range append(dirs, "../hclspec", "../cue") {
		rel := strings.TrimPrefix(filepath.ToSlash(dir), "../")
		at := slices.Index(stages, rel)
		if at < 0 {
			t.Errorf("%s is not placed among the stages: add it to stages, after what it imports", rel)
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, spec := range f.Imports {
				path, _ := strconv.Unquote(spec.Path.Value)
				imported, ok := strings.CutPrefix(path, module)
				if !ok {
					continue
				}
				if i := slices.Index(stages, imported); i < 0 || i >= at {
					t.Errorf("%s imports %s, which is not an earlier stage", filepath.ToSlash(file), imported)
				}
			}
		}
	}
}
