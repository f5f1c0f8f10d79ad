package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files daemongen keeps in an output folder beside the outputs. All start with a dot,
// so that they never collide with an output (families cannot start with one).
const (
	// manifestName lists the outputs daemongen wrote: the only files --prune may remove and
	// --check may call orphaned.
	manifestName = ".daemongen-manifest.json"
	// lockName is locked for the whole of a run that writes, so that two runs into one
	// folder take turns, on systems where the folder itself cannot be locked.
	lockName = ".daemongen.lock"
	// journalName lists the renames and removals of a write whose new files are all on
	// disk: once it exists, the write is committed, and a run that finds it (after a crash)
	// finishes it.
	journalName = ".daemongen-journal.json"
	// tempPrefix and tempSuffix name the temporary files of a write.
	tempPrefix, tempSuffix = ".daemongen-", ".tmp"
)

// manifest is the content of manifestName.
type manifest struct {
	// Files are the outputs, relative to the output folder with slashes, sorted.
	Files []string `json:"files"`
}

// readManifest returns the outputs the manifest of dir lists; none when there is none.
func readManifest(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a daemongen manifest (%v); remove it, and daemongen will write a new one", filepath.Join(dir, manifestName), err)
	}
	for _, name := range m.Files {
		if !ownedName(name) {
			return nil, fmt.Errorf("%s: lists %q, which is not a file daemongen writes; remove the manifest, and daemongen will write a new one", filepath.Join(dir, manifestName), name)
		}
	}
	return m.Files, nil
}

// ownedName reports whether name can be an output: a local path of one or two elements
// ([env/]family.json) with no hidden element.
func ownedName(name string) bool {
	parts := strings.Split(name, "/")
	if !filepath.IsLocal(filepath.FromSlash(name)) || len(parts) > 2 || !strings.HasSuffix(name, ".json") {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.HasPrefix(p, ".") {
			return false
		}
	}
	return true
}

func encodeManifest(files []string) []byte {
	b, _ := json.MarshalIndent(manifest{Files: files}, "", "  ") // a list of strings always encodes
	return append(b, '\n')
}

// journal is the content of journalName.
type journal struct {
	// Renames maps each temporary file to the output it becomes, relative to the folder.
	Renames [][2]string `json:"renames"`
	// Removes are the outputs to remove, relative to the folder.
	Removes []string `json:"removes"`
}

// outputWrite is one write of an output folder: the files to write (all of them: those
// whose content is already right are left untouched) and the outputs to remove.
type outputWrite struct {
	dir    string
	files  map[string][]byte
	remove []string
	// owned is the new manifest: every output daemongen now owns in dir.
	owned []string
}

// hooks let tests fail a write at any step.
var (
	renameFile = os.Rename
	removeFile = os.Remove
	syncFile   = func(f *os.File) error { return f.Sync() }
)

// lockOutput locks dir for a run that writes into it, waiting for another run to finish,
// for at most timeout. It calls waiting once the wait is noticeable.
func lockOutput(dir string, waiting func(), timeout time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	type result struct {
		unlock func()
		err    error
	}
	done := make(chan result, 1)
	go func() {
		u, err := lockDir(dir)
		done <- result{u, err}
	}()
	select {
	case r := <-done:
		return r.unlock, r.err
	case <-time.After(time.Second):
		waiting()
	}
	select {
	case r := <-done:
		return r.unlock, r.err
	case <-time.After(timeout):
		// The locking goroutine is left waiting; the process ends before it gets the lock.
		return nil, fmt.Errorf("another daemongen run has been writing into %s for over %v; try again when it ends", dir, timeout)
	}
}

// recoverOutput finishes a write that a crash interrupted after it was committed, then
// removes the temporary files of writes that never were. It runs under the lock.
func recoverOutput(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, journalName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		var j journal
		if err := json.Unmarshal(b, &j); err != nil {
			return fmt.Errorf("%s is damaged (%v); the last write into %s may be incomplete: remove the journal and run daemongen generate again", filepath.Join(dir, journalName), err, dir)
		}
		if err := applyJournal(dir, j); err != nil {
			return err
		}
	}
	// Temporaries that no journal names belong to writes that never committed.
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && strings.Count(filepath.ToSlash(strings.TrimPrefix(p, dir)), "/") > 1 {
			return filepath.SkipDir // outputs are at most one folder deep
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), tempPrefix) && strings.HasSuffix(d.Name(), tempSuffix) {
			return removeFile(p)
		}
		return nil
	})
}

// applyJournal carries out a committed write: each rename whose temporary file is still
// there (a rename already done has none), each removal, then the journal's own removal.
func applyJournal(dir string, j journal) error {
	var touched []string
	for _, r := range j.Renames {
		tmp, target := filepath.Join(dir, filepath.FromSlash(r[0])), filepath.Join(dir, filepath.FromSlash(r[1]))
		if _, err := os.Lstat(tmp); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := renameFile(tmp, target); err != nil {
			return err
		}
		touched = append(touched, filepath.Dir(target))
	}
	for _, name := range j.Removes {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := removeFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		touched = append(touched, filepath.Dir(p))
		// A folder the removal emptied goes too (an environment no spec generates).
		if sub := filepath.Dir(p); sub != dir {
			if entries, err := os.ReadDir(sub); err == nil && len(entries) == 0 {
				_ = os.Remove(sub)
			}
		}
	}
	for _, d := range slices.Compact(slices.Sorted(slices.Values(append(touched, dir)))) {
		syncDir(d)
	}
	return removeFile(filepath.Join(dir, journalName))
}

// commit writes w all or nothing: every new or changed file, and the manifest, go to
// synced temporary files first; then the journal is written, which commits the write; then
// the renames and removals happen. A failure before the journal leaves every old file as
// it was and removes the temporaries; a crash after it is finished by the next run.
// It returns the outputs written (new or changed) and removed.
func (w *outputWrite) commit() (written, removed []string, err error) {
	var (
		temps     []string
		staged    [][2]string
		committed bool // the journal is in place: its temporaries are the write's
	)
	defer func() {
		if err != nil && !committed {
			for _, t := range temps {
				_ = os.Remove(t)
			}
		}
	}()
	stage := func(name string, data []byte) error {
		target := filepath.Join(w.dir, filepath.FromSlash(name))
		if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, data) {
			return nil
		}
		tmp, err := writeTemp(filepath.Dir(target), data)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(w.dir, tmp)
		staged = append(staged, [2]string{filepath.ToSlash(rel), name})
		return nil
	}
	for _, name := range sortedNames(w.files) {
		if !ownedName(name) {
			return nil, nil, fmt.Errorf("refusing to write %q: not an output name", name)
		}
		if err := stage(name, w.files[name]); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range staged {
		written = append(written, r[1])
	}
	if err := stage(manifestName, encodeManifest(w.owned)); err != nil {
		return nil, nil, err
	}
	for _, name := range w.remove {
		if _, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(name))); err == nil {
			removed = append(removed, name)
		}
	}
	if len(staged) == 0 && len(removed) == 0 {
		return nil, nil, nil
	}
	j := journal{Renames: staged, Removes: removed}
	jb, _ := json.Marshal(j) // strings always encode
	tmp, err := writeTemp(w.dir, jb)
	if tmp != "" {
		temps = append(temps, tmp)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := renameFile(tmp, filepath.Join(w.dir, journalName)); err != nil {
		return nil, nil, err
	}
	committed = true
	syncDir(w.dir)
	if err := applyJournal(w.dir, j); err != nil {
		return nil, nil, fmt.Errorf("%w; the write is committed: the next daemongen run into %s finishes it", err, w.dir)
	}
	return written, removed, nil
}

// writeTemp writes data to a new temporary file in dir and syncs it. The file is created
// with mode 0666, less the umask, as any new file; it returns its name even on failure, so
// that the caller removes it.
func writeTemp(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	name := filepath.Join(dir, tempPrefix+hex.EncodeToString(rnd[:])+tempSuffix)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return name, err
	}
	if err := syncFile(f); err != nil {
		f.Close()
		return name, err
	}
	return name, f.Close()
}

// syncDir makes the renames in dir durable. File systems that cannot sync a directory
// (some network ones) are left to their own guarantees.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// writeSpecs writes the spec files that import makes into dir: each to a synced temporary
// file first, then all renamed into place, so that a failure leaves no half-written spec.
// Spec files are the user's to edit, so no manifest lists them.
func writeSpecs(dir string, files map[string][]byte) (err error) {
	var temps [][2]string
	defer func() {
		if err != nil {
			for _, t := range temps {
				_ = os.Remove(t[0])
			}
		}
	}()
	for _, name := range sortedNames(files) {
		if !filepath.IsLocal(name) || strings.ContainsRune(name, '/') {
			return fmt.Errorf("refusing to write %q outside %s", name, dir)
		}
		tmp, err := writeTemp(dir, files[name])
		if tmp != "" {
			temps = append(temps, [2]string{tmp, filepath.Join(dir, name)})
		}
		if err != nil {
			return err
		}
	}
	for i, t := range temps {
		if err := renameFile(t[0], t[1]); err != nil {
			temps = temps[i:]
			return err
		}
	}
	syncDir(dir)
	return nil
}
