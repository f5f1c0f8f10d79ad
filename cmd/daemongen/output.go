package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/daemongen/daemongen/gen"
	"github.com/daemongen/daemongen/internal/safefile"
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
	// tempPrefix and tempSuffix name the temporary files of a write: see [tempName].
	tempPrefix, tempSuffix = ".daemongen-", ".tmp"
	// maxRecordSize bounds the manifest and the journal daemongen reads: they list a
	// fleet's outputs, a few dozen bytes each.
	maxRecordSize = 64 << 20
)

// tempName matches the temporary files of a write, and only those: the write's run id (16
// hex digits), then the output's index, or manifest or journal. A user's file that merely
// starts with .daemongen- is never taken for one.
var tempName = regexp.MustCompile(`^\.daemongen-([0-9a-f]{16})-([0-9]+|manifest|journal)\.tmp$`)

// tempRun returns the run id of the temporary file base, or "" when base is not one.
func tempRun(base string) string {
	if m := tempName.FindStringSubmatch(base); m != nil {
		return m[1]
	}
	return ""
}

// notOwnOutput says why the output name in dir is not a file daemongen can tell it wrote,
// or "" when it is: a regular file (not a link) of at most gen.MaxFileSize bytes holding
// one JSON object whose family is the file's name, as every output is. A manifest or a
// journal that lists a user's file never makes daemongen remove it.
func notOwnOutput(dir, name string) string {
	return notOutputOf(filepath.Join(dir, filepath.FromSlash(name)), path.Base(name))
}

// notOutputOf says why the file at p does not hold the output named base (FAMILY.json),
// or "" when it does.
func notOutputOf(p, base string) string {
	b, err := safefile.ReadNoFollow(p, gen.MaxFileSize)
	if err != nil {
		return err.Error()
	}
	var doc struct {
		Family *string `json:"family"`
	}
	if json.Unmarshal(b, &doc) != nil || doc.Family == nil || *doc.Family+".json" != base {
		return fmt.Sprintf("%s does not hold the daemon task definition of family %q that daemongen writes there", p, strings.TrimSuffix(base, ".json"))
	}
	return ""
}

// manifest is the content of manifestName.
type manifest struct {
	// Files are the outputs, relative to the output folder with slashes, sorted.
	Files []string `json:"files"`
}

// readManifest returns the outputs the manifest of dir lists; none when there is none.
func readManifest(dir string) ([]string, error) {
	b, err := safefile.ReadNoFollow(filepath.Join(dir, manifestName), maxRecordSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%v; daemongen reads its manifest only as a regular file in %s", err, dir)
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
// ([env/]family.json) with no hidden element, each short enough for a file name.
func ownedName(name string) bool {
	parts := strings.Split(name, "/")
	if !filepath.IsLocal(filepath.FromSlash(name)) || len(parts) > 2 || !strings.HasSuffix(name, ".json") {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.HasPrefix(p, ".") || len(p) > maxNameBytes {
			return false
		}
	}
	return true
}

// maxNameBytes is the longest file name common file systems allow.
const maxNameBytes = 255

// folderInside is [outputFolderInside], asked once per folder: a fleet's outputs share a
// few environment folders.
func (w *outputWrite) folderInside(name string) error {
	sub := path.Dir(name)
	if w.folders == nil {
		w.folders = map[string]error{}
	}
	err, checked := w.folders[sub]
	if !checked {
		err = outputFolderInside(w.dir, name)
		w.folders[sub] = err
	}
	return err
}

// outputFolderInside refuses the folder of the output name when it is a symbolic link:
// writing or removing through it would touch files outside dir. An output's folder is its
// environment's, made by daemongen; dir itself is the user's to choose.
func outputFolderInside(dir, name string) error {
	sub := path.Dir(name)
	if sub == "." {
		return nil
	}
	folder := filepath.Join(dir, filepath.FromSlash(sub))
	if fi, err := os.Lstat(folder); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: daemongen writes and removes files only inside %s; make it a folder", folder, dir)
	}
	return nil
}

// encodeManifest writes the manifest of files as json.MarshalIndent would, with two
// spaces, in one buffer: a fleet's manifest lists tens of thousands of files.
func encodeManifest(files []string) []byte {
	var b bytes.Buffer
	b.Grow(32 + len(files)*8)
	for _, f := range files {
		b.Grow(len(f) + 8)
	}
	b.WriteString("{\n  \"files\": ")
	switch {
	case files == nil:
		b.WriteString("null")
	case len(files) == 0:
		b.WriteString("[]")
	default:
		b.WriteString("[\n")
		for i, f := range files {
			b.WriteString("    ")
			writeJSONString(&b, f)
			if i < len(files)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("  ]")
	}
	b.WriteString("\n}\n")
	return b.Bytes()
}

// writeJSONString writes s as a JSON string, as encoding/json does.
func writeJSONString(w io.Writer, s string) {
	q, _ := json.Marshal(s) // a string always encodes
	w.Write(q)
}

// encodeJournal writes the journal j as json.Marshal would, to w, without holding it.
func encodeJournal(w io.Writer, run string, renames func(yield func(tmp, name string) bool), removes []string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"run":`)
	writeJSONString(bw, run)
	bw.WriteString(`,"renames":[`)
	first := true
	for tmp, name := range renames {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.WriteByte('[')
		writeJSONString(bw, tmp)
		bw.WriteByte(',')
		writeJSONString(bw, name)
		bw.WriteByte(']')
	}
	bw.WriteString(`],"removes":`)
	if removes == nil {
		bw.WriteString("null")
	} else {
		bw.WriteByte('[')
		for i, name := range removes {
			if i > 0 {
				bw.WriteByte(',')
			}
			writeJSONString(bw, name)
		}
		bw.WriteByte(']')
	}
	bw.WriteByte('}')
	return bw.Flush()
}

// journal is the content of journalName.
type journal struct {
	// Run is the id of the write: every temporary file it renames carries it.
	Run string `json:"run"`
	// Renames maps each temporary file to the output it becomes, relative to the folder.
	Renames [][2]string `json:"renames"`
	// Removes are the outputs to remove, relative to the folder.
	Removes []string `json:"removes"`
}

// outputWrite is one write of an output folder, all or nothing. Outputs are staged one by
// one as they are generated, each new or changed one to a synced temporary file beside its
// target, so that a run holds none of them; commit then writes the manifest and the
// journal, which commits the write, and renames. abort removes what was staged. It runs
// under the folder's lock.
type outputWrite struct {
	dir string
	// waiting is called when another run holds the folder's lock for a while, and
	// timeout bounds the wait.
	waiting func(folder string)
	timeout time.Duration
	// previous are the outputs the folder's manifest listed when the write began.
	previous []string
	// remove are the outputs to remove; owned is the new manifest: every output daemongen
	// owns in dir once the write is done. The caller sets both before commit.
	remove []string
	owned  []string

	began  bool
	unlock func()

	// A fleet's write holds a name and an index for each output, and no content: the
	// temporary file of produced[i] is named after the write's run and i (tempFor).
	run      string   // random, for this write's temporary files
	produced []string // every output staged, new, changed or unchanged
	sizes    []int32  // the size of each produced output, to find it in place at commit
	changed  []int    // the indexes in produced of the outputs written to temporary files
	extra    [][2]string
	made     []string         // the folders staging created, to remove when it does not commit
	folders  map[string]error // outputFolderInside of each output folder seen
	// subLocks hold the lock of each environment folder the write has a temporary file
	// in: a run holds the lock of every folder it stages into, so that a run that holds a
	// folder's lock knows the temporaries there are of dead runs.
	subLocks map[string]func()
	// notes are what recovery and commit left alone and say why, for the caller to print.
	notes []string

	// mu orders staging, which the evaluation calls, against commit, abort and an
	// interrupt, which come from elsewhere; stopped is set by an interrupt.
	mu        sync.Mutex
	stopped   bool
	committed bool
}

// errInterrupted is what staging returns once a signal has stopped the write.
var errInterrupted = errors.New("the write was interrupted")

// tempFor names the temporary file of the output name staged as number i: beside its
// target, so that the rename stays in one folder, with a name no output can have.
func (w *outputWrite) tempFor(name string, i int) string {
	return path.Join(path.Dir(name), tempPrefix+w.run+"-"+strconv.Itoa(i)+tempSuffix) // see tempName
}

// staged yields each temporary file and the output it becomes, relative to the folder.
func (w *outputWrite) staged(yield func(tmp, name string) bool) {
	for _, i := range w.changed {
		if !yield(w.tempFor(w.produced[i], i), w.produced[i]) {
			return
		}
	}
	for _, r := range w.extra {
		if !yield(r[0], r[1]) {
			return
		}
	}
}

// begin starts the write: it makes the folder (remembering what it made, for abort),
// locks it, finishes a write that a crash interrupted, and reads the manifest. The first
// stage calls it, so that a run that fails before its first output touches nothing; it
// does nothing when called again.
func (w *outputWrite) begin() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.beginLocked()
}

func (w *outputWrite) beginLocked() error {
	if w.stopped {
		return errInterrupted
	}
	if w.began {
		return nil
	}
	w.began = true
	w.run = newRunID()
	var missing []string
	for d := filepath.Clean(w.dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	unlock, err := lockOutput(w.dir, w.waiting, w.timeout)
	if err != nil {
		return err
	}
	w.unlock = unlock
	slices.Reverse(missing) // the outermost folder was made first
	w.made = append(w.made, missing...)
	notes, err := recoverOutput(w.dir)
	w.notes = append(w.notes, notes...)
	if err != nil {
		return err
	}
	w.previous, err = readManifest(w.dir)
	return err
}

// close releases the folders' locks.
func (w *outputWrite) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closeLocked()
}

func (w *outputWrite) closeLocked() {
	for _, unlock := range w.subLocks {
		unlock()
	}
	w.subLocks = nil
	if w.unlock != nil {
		w.unlock()
		w.unlock = nil
	}
}

// lockSub locks the environment folder sub (relative, with slashes) before the write's
// first temporary file there, and removes the temporaries of dead runs it holds.
func (w *outputWrite) lockSub(sub string) error {
	if sub == "." || w.subLocks[sub] != nil {
		return nil
	}
	folder := filepath.Join(w.dir, filepath.FromSlash(sub))
	unlock, err := lockOutput(folder, w.waiting, w.timeout)
	if err != nil {
		return err
	}
	if w.subLocks == nil {
		w.subLocks = map[string]func(){}
	}
	w.subLocks[sub] = unlock
	return removeDeadTemporaries(folder)
}

// stage adds the output name to the write: a file whose content is already right is left
// untouched, any other goes to a temporary file.
func (w *outputWrite) stage(name string, data []byte) error {
	if !ownedName(name) {
		return fmt.Errorf("refusing to write %q: not an output name", name)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.beginLocked(); err != nil {
		return err
	}
	i := len(w.produced)
	w.produced = append(w.produced, name)
	w.sizes = append(w.sizes, int32(len(data))) // an output is at most a few MiB
	written, err := w.stageFile(name, w.tempFor(name, i), data)
	if written {
		w.changed = append(w.changed, i)
	}
	return err
}

// stageFile writes data to the temporary file tmp, unless the output name already holds
// it. written is set when tmp exists, even after a failure, so that abort removes it.
func (w *outputWrite) stageFile(name, tmp string, data []byte) (written bool, err error) {
	if err := w.folderInside(name); err != nil {
		return false, err
	}
	target := filepath.Join(w.dir, filepath.FromSlash(name))
	old, err := safefile.ReadNoFollow(target, int64(len(data)))
	var special *safefile.NotRegularError
	switch {
	case err == nil && bytes.Equal(old, data):
		return false, nil
	case errors.As(err, &special) && special.Mode&fs.ModeSymlink == 0:
		// A link is replaced, never written through; a pipe or a device is the user's.
		return false, fmt.Errorf("%s is %s where an output belongs; remove it", target, safefile.Describe(special.Mode))
	}
	if sub := filepath.Dir(target); sub != w.dir {
		if _, err := os.Stat(sub); errors.Is(err, fs.ErrNotExist) {
			w.made = append(w.made, sub)
		}
	}
	if err := w.lockSub(path.Dir(name)); err != nil {
		return false, err
	}
	created, err := writeTempAs(filepath.Join(w.dir, filepath.FromSlash(tmp)), data)
	return created, err
}

// abort removes every temporary file of the write, and the folders it created for them:
// the folder is left as it was.
func (w *outputWrite) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.abortLocked()
}

// interrupt stops the write for a signal: a write not yet committed is aborted, one whose
// commit is under way is finished first (commit holds mu until it is done). It reports
// whether the write had committed.
func (w *outputWrite) interrupt() (committed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	committed = w.committed
	if !committed {
		w.abortLocked()
	}
	w.closeLocked()
	return committed
}

// interrupted reports whether a signal has stopped the write.
func (w *outputWrite) interrupted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

func (w *outputWrite) abortLocked() {
	for tmp := range w.staged {
		_ = os.Remove(filepath.Join(w.dir, filepath.FromSlash(tmp)))
	}
	for _, d := range slices.Backward(w.made) {
		_ = os.Remove(filepath.Join(d, lockName)) // where folders cannot be locked
		_ = os.Remove(d)                          // only when empty
	}
	w.made, w.changed, w.extra = nil, nil, nil
}

// hooks let tests fail a write at any step.
var (
	renameFile = os.Rename
	removeFile = os.Remove
	syncFile   = func(f *os.File) error { return f.Sync() }
)

// lockOutput locks dir for a run that writes into it, waiting for another run to finish,
// for at most timeout. It calls waiting once the wait is noticeable.
func lockOutput(dir string, waiting func(folder string), timeout time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if _, waited := err.(errLockWait); !waited {
				err = fmt.Errorf("locking %s: %w", dir, err)
			}
		}
	}()
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
		waiting(dir)
	}
	select {
	case r := <-done:
		return r.unlock, r.err
	case <-time.After(timeout):
		// The locking goroutine is left waiting; the process ends before it gets the lock.
		return nil, errLockWait{dir, timeout}
	}
}

// errLockWait is a lock that another run held for longer than --timeout.
type errLockWait struct {
	dir     string
	timeout time.Duration
}

func (e errLockWait) Error() string {
	return fmt.Sprintf("waited %v (--timeout) for another daemongen run writing into %s to finish; try again when it ends", e.timeout, e.dir)
}

// recoverOutput finishes a write that a crash interrupted after it was committed, then
// removes the temporary files of writes that never were. It runs under dir's lock, and
// touches only what it can prove is daemongen's: the journal's own temporaries and
// outputs (a removal only of a file daemongen can tell it wrote: see [notOwnOutput]), and
// temporaries in the folders whose lock it holds or can take, which no live run holds.
// notes say what it left alone.
func recoverOutput(dir string) (notes []string, err error) {
	b, err := safefile.ReadNoFollow(filepath.Join(dir, journalName), maxRecordSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%s cannot be read (%v); the last write into %s may be incomplete: remove the journal and run daemongen generate again", filepath.Join(dir, journalName), err, dir)
	default:
		var j journal
		err := json.Unmarshal(b, &j)
		if err == nil {
			err = checkJournal(dir, j)
		}
		if err != nil {
			return nil, fmt.Errorf("%s is damaged (%v); the last write into %s may be incomplete: remove the journal and run daemongen generate again", filepath.Join(dir, journalName), err, dir)
		}
		// A rename whose temporary does not hold the output it becomes is not carried
		// out: a hand-made journal cannot make the recovery replace a user's file.
		var kept [][2]string
		for _, r := range j.Renames {
			tmp := filepath.Join(dir, filepath.FromSlash(r[0]))
			if r[1] != manifestName && !errors.Is(lstatErr(dir, r[0]), fs.ErrNotExist) {
				if why := notOutputOf(tmp, path.Base(r[1])); why != "" {
					notes = append(notes, fmt.Sprintf("left %s, which the journal of an interrupted write renames: %s", filepath.Join(dir, filepath.FromSlash(r[1])), why))
					continue
				}
			}
			kept = append(kept, r)
		}
		renames := func(yield func(tmp, name string) bool) {
			for _, r := range kept {
				if !yield(r[0], r[1]) {
					return
				}
			}
		}
		var removes []string
		for _, name := range j.Removes {
			if why := notOwnOutput(dir, name); why != "" && !errors.Is(lstatErr(dir, name), fs.ErrNotExist) {
				notes = append(notes, fmt.Sprintf("left %s, which the journal of an interrupted write lists for removal: %s", filepath.Join(dir, filepath.FromSlash(name)), why))
				continue
			}
			removes = append(removes, name)
		}
		if err := applyJournal(dir, renames, removes, true); err != nil {
			return notes, err
		}
	}
	// Temporaries that no journal names belong to writes that never committed. Those in
	// dir are of dead runs: a run holds the lock of every folder it stages into, and this
	// one holds dir's. An environment folder's are removed only under its lock.
	if err := removeDeadTemporaries(dir); err != nil {
		return notes, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return notes, err
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") { // a link is not a folder here
			continue
		}
		sub := filepath.Join(dir, e.Name())
		unlock, ok := tryLockDir(sub)
		if !ok {
			continue // a live run writes there, or the folder is not ours to lock
		}
		err := removeDeadTemporaries(sub)
		unlock()
		if err != nil {
			return notes, err
		}
	}
	return notes, nil
}

// lstatErr is the error of Lstat of the output name in dir.
func lstatErr(dir, name string) error {
	_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(name)))
	return err
}

// removeDeadTemporaries removes the write temporaries (see [tempName]) in folder, whose
// lock the caller holds: no live run has one there.
func removeDeadTemporaries(folder string) error {
	entries, err := os.ReadDir(folder)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && tempRun(e.Name()) != "" {
			if err := removeFile(filepath.Join(folder, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// checkJournal makes sure that a journal read from dir names only what a write into dir
// makes: its own run's temporary files renamed to outputs or to the manifest, and outputs
// removed, all inside dir.
func checkJournal(dir string, j journal) error {
	check := func(name string, ok bool) error {
		if !ok {
			return fmt.Errorf("it names %q, which is not a file daemongen writes", name)
		}
		return outputFolderInside(dir, name)
	}
	if len(j.Run) != 16 || tempRun(tempPrefix+j.Run+"-0"+tempSuffix) != j.Run {
		return fmt.Errorf("it names no run of daemongen (%q)", j.Run)
	}
	for _, r := range j.Renames {
		tmp, name := r[0], r[1]
		folder, base := path.Split(tmp)
		isTemp := tempRun(base) == j.Run &&
			(folder == "" || ownedName(folder+"output.json")) // a temporary is beside its output
		if err := check(tmp, isTemp); err != nil {
			return err
		}
		if err := check(name, ownedName(name) || name == manifestName); err != nil {
			return err
		}
	}
	for _, name := range j.Removes {
		if err := check(name, ownedName(name)); err != nil {
			return err
		}
	}
	return nil
}

// errTemporaryGone is a temporary file of the write that was not there to rename.
var errTemporaryGone = errors.New("a temporary file of this write was removed while it ran")

// applyJournal carries out a committed write: each rename, each removal, then the
// journal's own removal. recovering is set when a later run finishes a killed write: a
// rename already done has no temporary any more, and is skipped. In the write itself, a
// temporary that is not there was removed by something else, and is an error.
func applyJournal(dir string, renames func(yield func(tmp, name string) bool), removes []string, recovering bool) error {
	touched := map[string]bool{dir: true} // the folders to sync: one or a few
	for tmpName, name := range renames {
		tmp, target := filepath.Join(dir, filepath.FromSlash(tmpName)), filepath.Join(dir, filepath.FromSlash(name))
		if _, err := os.Lstat(tmp); errors.Is(err, fs.ErrNotExist) {
			if recovering {
				continue
			}
			return fmt.Errorf("%w: %s, for %s", errTemporaryGone, tmp, target)
		}
		if err := renameFile(tmp, target); err != nil {
			return err
		}
		touched[filepath.Dir(target)] = true
	}
	for _, name := range removes {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := removeFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		touched[filepath.Dir(p)] = true
		// A folder the removal emptied goes too (an environment no spec generates).
		if sub := filepath.Dir(p); sub != dir {
			if entries, err := os.ReadDir(sub); err == nil && len(entries) == 0 {
				_ = os.Remove(sub)
			}
		}
	}
	for _, d := range slices.Sorted(maps.Keys(touched)) {
		syncDir(d)
	}
	return removeFile(filepath.Join(dir, journalName))
}

// inPlace makes sure, before the write commits, that every temporary file it staged is
// still there, and every output it left unchanged still is too, with its size: a run that
// another process interfered with (a folder removed, its temporaries swept) fails instead
// of reporting a set it did not leave.
func (w *outputWrite) inPlace() error {
	for tmp, name := range w.staged {
		if info, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(tmp))); err != nil || !info.Mode().IsRegular() {
			return fmt.Errorf("%w: %s, for %s; nothing was changed: run daemongen generate again", errTemporaryGone, filepath.Join(w.dir, filepath.FromSlash(tmp)), name)
		}
	}
	changed := make(map[int]bool, len(w.changed))
	for _, i := range w.changed {
		changed[i] = true
	}
	for i, name := range w.produced {
		if changed[i] {
			continue
		}
		p := filepath.Join(w.dir, filepath.FromSlash(name))
		if info, err := os.Lstat(p); err != nil || !info.Mode().IsRegular() || info.Size() != int64(w.sizes[i]) {
			return fmt.Errorf("%s changed or went away while daemongen ran; nothing was changed: run daemongen generate again", p)
		}
	}
	return nil
}

// commit finishes w: the manifest goes to a synced temporary file too; then the journal
// is written, which commits the write; then the renames and removals happen. A failure
// before the journal leaves every old file as it was and removes the temporaries; a crash
// after it is finished by the next run. It returns the outputs written (new or changed)
// and removed.
func (w *outputWrite) commit() (written, removed []string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil, nil, errInterrupted
	}
	committed := false // the journal is in place: its temporaries are the write's
	defer func() {
		if err != nil && !committed {
			w.abortLocked()
		}
		w.committed = committed
	}()
	for _, i := range w.changed {
		written = append(written, w.produced[i])
	}
	slices.Sort(written)
	manifestTemp := tempPrefix + w.run + "-manifest" + tempSuffix
	created, err := w.stageFile(manifestName, manifestTemp, encodeManifest(w.owned))
	if created {
		w.extra = append(w.extra, [2]string{manifestTemp, manifestName})
	}
	if err != nil {
		return nil, nil, err
	}
	for _, name := range w.remove {
		if err := w.folderInside(name); err != nil {
			return nil, nil, err
		}
		switch why := notOwnOutput(w.dir, name); {
		case errors.Is(lstatErr(w.dir, name), fs.ErrNotExist):
		case why != "":
			w.notes = append(w.notes, fmt.Sprintf("left %s, which the manifest lists: %s", filepath.Join(w.dir, filepath.FromSlash(name)), why))
		default:
			removed = append(removed, name)
		}
	}
	if err := w.inPlace(); err != nil {
		return nil, nil, err
	}
	if len(w.changed)+len(w.extra) == 0 && len(removed) == 0 {
		return nil, nil, nil
	}
	journalTemp := tempPrefix + w.run + "-journal" + tempSuffix
	created, err = writeTempWith(filepath.Join(w.dir, journalTemp), func(f io.Writer) error {
		return encodeJournal(f, w.run, w.staged, removed)
	})
	if created {
		w.extra = append(w.extra, [2]string{journalTemp, journalName})
	}
	if err != nil {
		return nil, nil, err
	}
	if err := renameFile(filepath.Join(w.dir, journalTemp), filepath.Join(w.dir, journalName)); err != nil {
		return nil, nil, err
	}
	committed = true
	w.extra = w.extra[:len(w.extra)-1] // the journal is in place, not a rename to make
	syncDir(w.dir)
	if err := applyJournal(w.dir, w.staged, removed, false); err != nil {
		return nil, nil, fmt.Errorf("%w; the write is committed: the next daemongen run into %s finishes it", err, w.dir)
	}
	return written, removed, nil
}

// newRunID returns a random name for a write's temporary files.
func newRunID() string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return hex.EncodeToString(rnd[:])
}

// writeTemp writes data to a new temporary file in dir and syncs it; see [writeTempAs].
func writeTemp(dir string, data []byte) (string, error) {
	name := filepath.Join(dir, tempPrefix+newRunID()+tempSuffix)
	created, err := writeTempAs(name, data)
	if !created {
		name = ""
	}
	return name, err
}

// writeTempAs writes data to the new temporary file name and syncs it. The file is created
// with mode 0666, less the umask, as any new file; created is set once it exists, even on
// failure, so that the caller removes it.
func writeTempAs(name string, data []byte) (created bool, err error) {
	return writeTempWith(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeTempWith is writeTempAs for content that write produces.
func writeTempWith(name string, write func(io.Writer) error) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		return false, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return false, err
	}
	if err := write(f); err != nil {
		f.Close()
		return true, err
	}
	if err := syncFile(f); err != nil {
		f.Close()
		return true, err
	}
	return true, f.Close()
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
