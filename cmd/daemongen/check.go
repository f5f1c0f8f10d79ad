package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"

	"github.com/daemongen/daemongen/gen"
	"github.com/daemongen/daemongen/internal/safefile"
)

// outputState compares what the specs generate with what an output folder holds, one
// output at a time as they are generated.
type outputState struct {
	dir      string
	scope    string          // the environment compared ("" for all)
	produced map[string]bool // every output generated in scope
	stale    []string        // on disk with other content
	missing  []string        // not on disk
	// notFile says, of a stale output that is not a regular file (a link, a pipe, a
	// folder), what it is: such a file is reported, never opened.
	notFile  map[string]string
	orphaned []string // in the manifest and on disk, no daemon produces it
	// changed holds the new content of stale and missing outputs, and sensitive the paths
	// of their sensitive values, for the diff; nil when no diff is wanted.
	changed   map[string][]byte
	sensitive map[string][][]any
	// interrupted is set when a committed write was killed before it finished.
	interrupted bool
	// origins are where in the specs each stale or missing output comes from: a reviewer
	// acts there. regen is the command that brings the folder up to date.
	origins map[string]hcl.Range
	regen   string
}

// newOutputState starts comparing with dir the outputs of environment scope ("" for
// all); withDiff keeps what a unified diff needs.
func newOutputState(dir, scope string, withDiff bool, regen string) *outputState {
	st := &outputState{dir: dir, scope: scope, produced: map[string]bool{}, notFile: map[string]string{}, origins: map[string]hcl.Range{}, regen: regen}
	if withDiff {
		st.changed, st.sensitive = map[string][]byte{}, map[string][][]any{}
	}
	if _, err := os.Lstat(filepath.Join(dir, journalName)); err == nil {
		st.interrupted = true
	}
	return st
}

// add compares one generated output with what dir holds.
func (st *outputState) add(o gen.Output) error {
	if !inScope(o.Name, st.scope) {
		return nil
	}
	// The checks generate makes before it writes: a name of an output, in a folder that
	// is no link.
	if !ownedName(o.Name) {
		return fmt.Errorf("refusing to compare %q: not an output name", o.Name)
	}
	if err := outputFolderInside(st.dir, o.Name); err != nil {
		return err
	}
	st.produced[o.Name] = true
	old, err := safefile.ReadNoFollow(filepath.Join(st.dir, filepath.FromSlash(o.Name)), int64(len(o.Data)))
	var special *safefile.NotRegularError
	switch {
	case os.IsNotExist(err):
		st.missing = append(st.missing, o.Name)
	case errors.As(err, &special):
		st.stale = append(st.stale, o.Name)
		st.notFile[o.Name] = safefile.Describe(special.Mode)
	case errors.Is(err, safefile.ErrTooLarge):
		st.stale = append(st.stale, o.Name)
	case err != nil:
		return err
	case !bytes.Equal(old, o.Data):
		st.stale = append(st.stale, o.Name)
	default:
		return nil
	}
	st.origins[o.Name] = o.Origin
	if st.changed != nil {
		st.changed[o.Name] = o.Data
		st.sensitive[o.Name] = o.Sensitive
	}
	return nil
}

// finish names the orphans: the outputs that dir's manifest lists (owned) and no daemon
// generates any more. Only files daemongen wrote are ever called orphaned, whatever else
// the folder holds.
func (st *outputState) finish(owned []string) {
	st.orphaned = orphans(st.dir, owned, func(name string) bool { return st.produced[name] }, st.scope)
	slices.Sort(st.stale)
	slices.Sort(st.missing)
}

// orphans returns the outputs that dir's manifest lists (owned), that lie in scope (an
// environment's folder, or everything when scope is "") and that are still on disk, but
// that are not produced.
func orphans(dir string, owned []string, produced func(name string) bool, scope string) []string {
	var out []string
	for _, name := range owned {
		if produced(name) || !inScope(name, scope) {
			continue
		}
		if outputFolderInside(dir, name) != nil {
			out = append(out, name) // not looked into; --prune refuses the folder
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(name))); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// inScope reports whether output name belongs to environment scope ("" for every one).
func inScope(name, scope string) bool {
	return scope == "" || strings.HasPrefix(name, scope+"/")
}

func (st *outputState) current() bool {
	return len(st.stale)+len(st.missing)+len(st.orphaned) == 0 && !st.interrupted
}

// diagnostics reports each stale or missing output at the spec line it comes from, where
// a reviewer acts, naming the output and the command that brings it up to date; an
// orphaned output, which no spec makes, at its file.
func (st *outputState) diagnostics() hcl.Diagnostics {
	var diags hcl.Diagnostics
	file := func(name string) string { return filepath.ToSlash(filepath.Join(st.dir, filepath.FromSlash(name))) }
	atOrigin := func(name, msg string) {
		r := st.origins[name]
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: file(name), Detail: msg + "; run " + st.regen, Subject: &r})
	}
	if st.interrupted {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &hcl.Range{Filename: filepath.Join(st.dir, journalName)},
			Detail: "a write into this folder was interrupted after it was committed; run " + st.regen + " to finish it"})
	}
	for _, name := range st.stale {
		if what := st.notFile[name]; what != "" {
			atOrigin(name, "stale: "+what+" where an output belongs (not opened); generating replaces it with the file")
		} else {
			atOrigin(name, "stale: differs from what the specs generate")
		}
	}
	for _, name := range st.missing {
		atOrigin(name, "missing: the specs generate it")
	}
	for _, name := range st.orphaned {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: "orphaned: no daemon generates it; remove it, or run " + st.regen + " --prune",
			Subject: &hcl.Range{Filename: filepath.Join(st.dir, filepath.FromSlash(name)), Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}})
	}
	return diags
}

// unifiedDiff returns what generating would change, as a unified diff.
func (st *outputState) unifiedDiff() []byte {
	var out bytes.Buffer
	for _, name := range slices.Sorted(slices.Values(append(append(slices.Clone(st.stale), st.missing...), st.orphaned...))) {
		path := filepath.ToSlash(filepath.Join(st.dir, filepath.FromSlash(name)))
		// Never through a link, never outside the folder (see outputState.add).
		var old []byte
		if st.notFile[name] == "" && outputFolderInside(st.dir, name) == nil {
			old, _ = safefile.ReadNoFollow(filepath.Join(st.dir, filepath.FromSlash(name)), gen.MaxFileSize)
		}
		// Values from sensitive variables, and whatever the old file holds at their
		// places, are not shown.
		oldText, newText := gen.RedactDiff(old, st.changed[name], st.sensitive[name])
		out.Write(diff.Diff(path, oldText, path, newText))
	}
	return out.Bytes()
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
