package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"daemongen": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script, one behaviour each.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// TestWriteFilesLeavesUnchangedFiles checks that a file whose content is already right is
// not rewritten, so that its modification time, and make's view of it, stay as they are.
func TestWriteFilesLeavesUnchangedFiles(t *testing.T) {
	dir := t.TempDir()
	same := filepath.Join(dir, "same.json")
	changed := filepath.Join(dir, "env", "changed.json")
	if err := os.WriteFile(same, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(same, old, old); err != nil {
		t.Fatal(err)
	}
	err := writeFiles(dir, map[string][]byte{"same.json": []byte("{}\n"), "env/changed.json": []byte("[]\n")})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(same); !info.ModTime().Equal(old) {
		t.Errorf("same.json was rewritten: modified %v", info.ModTime())
	}
	if b, _ := os.ReadFile(changed); string(b) != "[]\n" {
		t.Errorf("env/changed.json = %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if err := writeFiles(dir, map[string][]byte{"../escape.json": []byte("{}")}); err == nil {
		t.Error("writing outside the output folder succeeded")
	}
}
