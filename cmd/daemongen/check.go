package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"
)

// outputState compares what the specs generate with what an output folder holds.
type outputState struct {
	dir      string
	files    map[string][]byte
	stale    []string // on disk with other content
	missing  []string // not on disk
	orphaned []string // on disk, looks generated, no daemon produces it
}

// compareOutputs reads dir. A .json file no daemon produces counts as orphaned only when it
// looks like a daemon task definition (an object with family and containerDefinitions), so
// that other JSON kept in the folder is neither reported nor pruned.
func compareOutputs(dir string, files map[string][]byte) (*outputState, error) {
	st := &outputState{dir: dir, files: files}
	for _, name := range sortedNames(files) {
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case os.IsNotExist(err):
			st.missing = append(st.missing, name)
		case err != nil:
			return nil, err
		case !bytes.Equal(old, files[name]):
			st.stale = append(st.stale, name)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Ext(p) != ".json" {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, produced := files[rel]; !produced && looksGenerated(p) {
			st.orphaned = append(st.orphaned, rel)
		}
		return nil
	})
	slices.Sort(st.orphaned)
	return st, err
}

// looksGenerated tells whether a file is a daemon task definition such as daemongen writes.
func looksGenerated(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) != nil {
		return false
	}
	_, family := doc["family"]
	_, containers := doc["containerDefinitions"]
	return family && containers
}

func (st *outputState) current() bool {
	return len(st.stale)+len(st.missing)+len(st.orphaned) == 0
}

// diagnostics reports each stale, missing or orphaned output at its file.
func (st *outputState) diagnostics() hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(names []string, msg string) {
		for _, name := range names {
			r := &hcl.Range{Filename: filepath.Join(st.dir, filepath.FromSlash(name))}
			if msg != "missing: the specs generate it; run daemongen generate" {
				r.Start, r.End = hcl.Pos{Line: 1, Column: 1}, hcl.Pos{Line: 1, Column: 2, Byte: 1}
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: msg, Subject: r})
		}
	}
	add(st.stale, "stale: differs from what the specs generate; run daemongen generate")
	add(st.missing, "missing: the specs generate it; run daemongen generate")
	add(st.orphaned, "orphaned: no daemon generates it; remove it or run daemongen generate --prune")
	return diags
}

// unifiedDiff returns what generating would change, as a unified diff.
func (st *outputState) unifiedDiff() []byte {
	var out bytes.Buffer
	for _, name := range slices.Sorted(slices.Values(append(append(slices.Clone(st.stale), st.missing...), st.orphaned...))) {
		path := filepath.ToSlash(filepath.Join(st.dir, filepath.FromSlash(name)))
		old, _ := os.ReadFile(filepath.Join(st.dir, filepath.FromSlash(name)))
		out.Write(diff.Diff(path, old, path, st.files[name]))
	}
	return out.Bytes()
}

// prune removes the orphaned outputs.
func (st *outputState) prune() error {
	for _, name := range st.orphaned {
		if err := os.Remove(filepath.Join(st.dir, filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	return nil
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
