package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fleet returns n outputs in two environments, each marked with version.
func fleet(n int, version string) map[string][]byte {
	files := map[string][]byte{}
	for i := range n {
		for _, env := range []string{"dev", "prod"} {
			files[fmt.Sprintf("%s/d%03d.json", env, i)] = []byte(fmt.Sprintf("{\"family\": \"d%03d\", \"version\": %q}\n", i, version))
		}
	}
	return files
}

// tree returns the files below dir by slash path, the manifest and lock aside; it fails
// the test on a temporary file or a journal left behind.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch name := d.Name(); {
		case name == manifestName || name == lockName:
			return nil
		case strings.HasPrefix(name, ".daemongen-"):
			t.Errorf("left behind: %s", rel)
			return nil
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// write commits files into dir as generate does: lock and recover when the first file is
// staged, stage each, then commit.
func write(dir string, files map[string][]byte, remove ...string) error {
	w := &outputWrite{dir: dir, waiting: func(string) {}, timeout: time.Minute}
	defer w.close()
	for _, name := range sortedNames(files) {
		if err := w.stage(name, files[name]); err != nil {
			w.abort()
			return err
		}
	}
	if err := w.begin(); err != nil {
		return err
	}
	w.owned, w.remove = sortedNames(files), remove
	_, _, err := w.commit()
	return err
}

// failAfter makes *hook fail from its n-th call on, until restore is called (at the end
// of the test at the latest).
func failAfter[F any](t *testing.T, hook *F, n int, wrap func(orig F, fail func() bool) F) (restore func()) {
	orig := *hook
	calls := 0
	*hook = wrap(orig, func() bool { calls++; return calls >= n })
	restore = func() { *hook = orig }
	t.Cleanup(restore)
	return restore
}

var errInjected = errors.New("injected failure")

// TestWriteFailureLeavesEveryOldFile fails the write at each step before it commits (a
// file that cannot be synced: a full disk, say) and requires every old file as it was and
// no temporary file left.
func TestWriteFailureLeavesEveryOldFile(t *testing.T) {
	for _, n := range []int{1, 2, 7, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			old := fleet(20, "old")
			if err := write(dir, old); err != nil {
				t.Fatal(err)
			}
			failAfter(t, &syncFile, n, func(orig func(*os.File) error, fail func() bool) func(*os.File) error {
				return func(f *os.File) error {
					if fail() {
						return errInjected
					}
					return orig(f)
				}
			})
			if err := write(dir, fleet(20, "new")); !errors.Is(err, errInjected) {
				t.Fatalf("write = %v, want the injected failure", err)
			}
			if diff := cmp.Diff(old, tree(t, dir)); diff != "" {
				t.Errorf("old files changed (-old +now):\n%s", diff)
			}
		})
	}
}

// TestKilledWriteIsFinishedByTheNextRun stops a committed write after some of its renames,
// as a SIGKILL would, and requires the recovery that starts every run to complete the new
// set.
func TestKilledWriteIsFinishedByTheNextRun(t *testing.T) {
	for _, n := range []int{1, 5, 39} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			if err := write(dir, fleet(20, "old")); err != nil {
				t.Fatal(err)
			}
			newer := fleet(20, "new")
			func() {
				defer failAfter(t, &renameFile, n+1, func(orig func(string, string) error, fail func() bool) func(string, string) error {
					return func(a, b string) error {
						if fail() && filepath.Base(b) != journalName {
							return errInjected
						}
						return orig(a, b)
					}
				})()
				if err := write(dir, newer); !errors.Is(err, errInjected) {
					t.Fatalf("write = %v, want the injected failure", err)
				}
			}()
			if _, err := os.Stat(filepath.Join(dir, journalName)); err != nil {
				t.Fatalf("the committed write left no journal: %v", err)
			}
			// The next run, whatever it writes, first finishes the interrupted one.
			if _, err := recoverOutput(dir); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(newer, tree(t, dir)); diff != "" {
				t.Errorf("after the next run (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStaleTemporariesAreRemoved leaves the temporary files of a run killed before it
// committed, and requires the next run to remove them.
func TestStaleTemporariesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	files := fleet(2, "v")
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{tempPrefix + "00000000000000de-0" + tempSuffix, "prod/" + tempPrefix + "00000000000000de-manifest" + tempSuffix} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(files, tree(t, dir)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestConcurrentRunsTakeTurns runs writes of two versions of a fleet into one folder at
// once and requires the folder to hold one version whole, never a mix.
func TestConcurrentRunsTakeTurns(t *testing.T) {
	dir := t.TempDir()
	versions := []map[string][]byte{fleet(200, "a"), fleet(200, "b")}
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make([]error, len(versions))
		for i, files := range versions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = write(dir, files)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := tree(t, dir)
		if !cmp.Equal(got, versions[0]) && !cmp.Equal(got, versions[1]) {
			t.Fatalf("round %d: the folder mixes the two versions", round)
		}
	}
}

// TestUnchangedFilesAreNotRewritten checks that a file whose content is already right
// keeps its modification time, so that make and editors see no change.
func TestUnchangedFilesAreNotRewritten(t *testing.T) {
	dir := t.TempDir()
	files := fleet(2, "v")
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	same := filepath.Join(dir, "dev", "d000.json")
	if err := os.Chtimes(same, past, past); err != nil {
		t.Fatal(err)
	}
	files["prod/d001.json"] = []byte("{}\n")
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(same); !info.ModTime().Equal(past) {
		t.Errorf("an unchanged file was rewritten")
	}
	if diff := cmp.Diff(files, tree(t, dir)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestOutputsHonourTheUmask checks that outputs are created as any new file is: mode
// 0666 less the umask.
func TestOutputsHonourTheUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := write(dir, fleet(1, "v")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "dev", "d000.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o640 {
		t.Errorf("mode = %v, want -rw-r-----", got)
	}
}

// TestNoWriteOutsideTheFolder checks that a name that is not an output is refused.
func TestNoWriteOutsideTheFolder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"../escape.json", "/abs.json", "a/b/c.json", ".hidden.json"} {
		if err := write(dir, map[string][]byte{name: []byte("{}")}); err == nil {
			t.Errorf("writing %q succeeded", name)
		}
	}
}

// TestDamagedJournalTouchesNothingOutside checks that a journal naming files that no write
// makes, outside the folder or through a symbolic link, is refused before anything is
// renamed or removed.
func TestDamagedJournalTouchesNothingOutside(t *testing.T) {
	for _, j := range []journal{
		{Removes: []string{"../victim.json"}},
		{Removes: []string{"link/victim.json"}},
		{Renames: [][2]string{{".daemongen-x-0.tmp", "../victim.json"}}},
		{Renames: [][2]string{{"../victim.json", "a.json"}}},
		{Renames: [][2]string{{".daemongen-x-0.tmp", "link/victim.json"}}},
		{Renames: [][2]string{{".daemongen-x-0.tmp", "a.json"}}, Removes: []string{"/victim.json"}},
	} {
		top := t.TempDir()
		dir := filepath.Join(top, "out")
		victim := filepath.Join(top, "victim.json")
		for _, f := range []string{victim, filepath.Join(dir, ".daemongen-x-0.tmp")} {
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, []byte("{}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(top, filepath.Join(dir, "link")); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(j)
		if err := os.WriteFile(filepath.Join(dir, journalName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := recoverOutput(dir)
		if err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Errorf("journal %s: err = %v, want it refused as damaged", b, err)
		}
		if got, err := os.ReadFile(victim); err != nil || string(got) != "{}\n" {
			t.Errorf("journal %s: the file outside the folder changed: %q, %v", b, got, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "a.json")); err == nil {
			t.Errorf("journal %s: a rename happened", b)
		}
	}
}

// TestCrashExitCode checks that a panic (here forced in the write phase) is reported as an
// internal error with exit code 3, distinct from a usage error's 2, and writes nothing.
func TestCrashExitCode(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.cue")
	if err := os.WriteFile(spec, []byte("package fleet\n\ndaemons: agent: containers: agent: {image: \"a:1\", memory: 64}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	orig := renameFile
	renameFile = func(string, string) error { panic("forced") }
	defer func() { renameFile = orig }()
	var stderr strings.Builder
	out := filepath.Join(dir, "out")
	if code := Main([]string{"generate", "-q", "-o", out, spec}, io.Discard, &stderr); code != exitCrash {
		t.Errorf("exit code %d, want %d", code, exitCrash)
	}
	if !strings.Contains(stderr.String(), "internal error") || !strings.Contains(stderr.String(), "forced") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "agent.json")); err == nil {
		t.Error("an output was written")
	}
}

// TestCheckReportsAnInterruptedWrite checks that --check names a committed write that a
// kill interrupted, which leaves the folder mixed until the next run finishes it.
func TestCheckReportsAnInterruptedWrite(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, journalName), []byte(`{"renames": [], "removes": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	st := newOutputState(dir, "", false, "daemongen generate")
	st.finish(nil)
	diags := st.diagnostics()
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "interrupted after it was committed") {
		t.Errorf("diagnostics = %v", diags)
	}
	if st.current() {
		t.Error("a folder with an interrupted write counts as current")
	}
}

// TestSummaryLine pins the summary a run on a terminal ends with.
func TestSummaryLine(t *testing.T) {
	if got, want := summaryLine(3, 1997, 2), "daemongen: 3 written, 1997 unchanged, 2 removed"; got != want {
		t.Errorf("summaryLine = %q, want %q", got, want)
	}
	t.Setenv("GOPACKAGE", "guide")
	if !underGoGenerate() {
		t.Error("a run under go generate is not recognised")
	}
}

// TestTimeoutBoundsAHangingRegistry points CUE at a module registry that accepts
// connections and never answers, and requires --timeout to end the run with exit 1.
func TestTimeoutBoundsAHangingRegistry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered, until the listener closes
		}
	}()
	t.Setenv("CUE_REGISTRY", ln.Addr().String()+"+insecure")
	t.Setenv("CUE_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "cue.mod"), 0o755)
	os.WriteFile(filepath.Join(dir, "cue.mod", "module.cue"), []byte("module: \"acme.example/fleet@v0\"\nlanguage: version: \"v0.12.0\"\ndeps: \"example.com/defaults@v0\": v: \"v0.1.0\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte("package fleet\n\nimport \"example.com/defaults\"\n\ndaemons: agent: defaults.agent\n"), 0o644)
	var stderr strings.Builder
	start := time.Now()
	code := Main([]string{"vet", "--timeout", "1s", dir}, io.Discard, &stderr)
	if code != exitInvalid || !strings.Contains(stderr.String(), "stopped after --timeout 1s") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the run took %v", elapsed)
	}
}

// TestLockWaitIsBounded holds the output folder's lock and requires a second writer to
// say it waits, then give up after its timeout.
func TestLockWaitIsBounded(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockOutput(dir, func(string) {}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	waited := false
	_, err = lockOutput(dir, func(string) { waited = true }, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "for another daemongen run writing into "+dir) || !waited {
		t.Errorf("second lock: waited %v, err %v", waited, err)
	}
}

// TestStreamedEncodingsMatchEncodingJSON checks that the manifest and the journal, which a
// write encodes without holding a document per output, are the bytes encoding/json makes.
func TestStreamedEncodingsMatchEncodingJSON(t *testing.T) {
	for _, files := range [][]string{nil, {}, {"a.json"}, {"dev/a.json", "prod/\"q\".json", "é<&>.json"}} {
		want, _ := json.MarshalIndent(manifest{Files: files}, "", "  ")
		if got := encodeManifest(files); string(got) != string(want)+"\n" {
			t.Errorf("manifest of %q:\n%s\nwant\n%s", files, got, want)
		}
		renames := [][2]string{}
		for i, f := range files {
			renames = append(renames, [2]string{fmt.Sprintf(".daemongen-x-%d.tmp", i), f})
		}
		want, _ = json.Marshal(journal{Run: "0123456789abcdef", Renames: renames, Removes: files})
		var got bytes.Buffer
		err := encodeJournal(&got, "0123456789abcdef", func(yield func(tmp, name string) bool) {
			for _, r := range renames {
				if !yield(r[0], r[1]) {
					return
				}
			}
		}, files)
		if err != nil || got.String() != string(want) {
			t.Errorf("journal of %q:\n%s\nwant\n%s", files, got.Bytes(), want)
		}
	}
}

// TestOverlappingRunsKeepEachOthersTemporaries runs a write into out/dev while another
// run writes into out: the outer run's recovery must not sweep the inner run's
// temporaries, and the inner run must find every one of its files in place.
func TestOverlappingRunsKeepEachOthersTemporaries(t *testing.T) {
	top := t.TempDir()
	inner := map[string][]byte{}
	for name, data := range fleet(50, "inner") {
		if rest, ok := strings.CutPrefix(name, "dev/"); ok {
			inner[rest] = data
		}
	}
	w := &outputWrite{dir: filepath.Join(top, "dev"), waiting: func(string) {}, timeout: time.Minute}
	defer w.close()
	for _, name := range sortedNames(inner) {
		if err := w.stage(name, inner[name]); err != nil {
			t.Fatal(err)
		}
	}
	outer := make(chan error, 1)
	go func() { outer <- write(top, fleet(50, "outer")) }()
	time.Sleep(200 * time.Millisecond) // the outer run recovers, then waits for dev's lock
	w.owned = sortedNames(inner)
	if _, _, err := w.commit(); err != nil {
		t.Fatalf("inner commit: %v", err)
	}
	got := map[string][]byte{}
	for name := range inner {
		got[name], _ = os.ReadFile(filepath.Join(top, "dev", name))
	}
	if diff := cmp.Diff(inner, got); diff != "" {
		t.Errorf("the inner run's outputs after its commit (-want +got):\n%s", diff)
	}
	w.close()
	if err := <-outer; err != nil {
		t.Fatalf("outer write: %v", err)
	}
	tree(t, top) // no temporary left by either
}

// TestInterferenceFailsTheCommit removes what a write staged, or an output it left
// unchanged, before it commits: the write must fail and leave the old files, never report
// success with a partial set.
func TestInterferenceFailsTheCommit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		interfere func(t *testing.T, dir string)
	}{
		{"temporaries removed", func(t *testing.T, dir string) {
			entries, _ := filepath.Glob(filepath.Join(dir, "prod", tempPrefix+"*"))
			if len(entries) == 0 {
				t.Fatal("no temporaries staged")
			}
			for _, e := range entries[:len(entries)/2] {
				os.Remove(e)
			}
		}},
		{"environment folder removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "dev")); err != nil {
				t.Fatal(err)
			}
		}},
		{"unchanged output removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "dev", "d000.json")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			old := fleet(10, "old")
			if err := write(dir, old); err != nil {
				t.Fatal(err)
			}
			newer := fleet(10, "new")
			for name := range newer {
				if strings.HasPrefix(name, "dev/") {
					newer[name] = old[name] // unchanged in dev
				}
			}
			w := &outputWrite{dir: dir, waiting: func(string) {}, timeout: time.Minute}
			defer w.close()
			for _, name := range sortedNames(newer) {
				if err := w.stage(name, newer[name]); err != nil {
					t.Fatal(err)
				}
			}
			tc.interfere(t, dir)
			w.owned = sortedNames(newer)
			_, _, err := w.commit()
			if err == nil {
				t.Fatal("commit succeeded after interference")
			}
			if _, err := os.Lstat(filepath.Join(dir, journalName)); err == nil {
				t.Error("a journal was written")
			}
			for name, data := range old {
				if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err == nil && !bytes.Equal(got, data) {
					t.Errorf("%s changed although the write failed", name)
				}
			}
		})
	}
}

// TestOnlyDaemongenFilesAreRemoved gives a hand-made journal and a manifest that list a
// user's file, and leaves user files that look like temporaries: none may be removed.
func TestOnlyDaemongenFilesAreRemoved(t *testing.T) {
	userFiles := map[string]string{
		"user.json":               `{"name": "my package"}`,
		".daemongen-x.tmp":        "notes",
		".daemongen-thesis.tmp":   "chapter 1",
		"prod/.daemongen-a-1.tmp": "draft",
	}
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		if err := write(dir, fleet(2, "v")); err != nil {
			t.Fatal(err)
		}
		for name, data := range userFiles {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	requireUserFiles := func(t *testing.T, dir string) {
		t.Helper()
		for name, data := range userFiles {
			if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(got) != data {
				t.Errorf("%s: %q, %v; want the user's file untouched", name, got, err)
			}
		}
	}

	t.Run("journal", func(t *testing.T) {
		dir := setup(t)
		j := `{"run":"0123456789abcdef","renames":[],"removes":["user.json"]}`
		if err := os.WriteFile(filepath.Join(dir, journalName), []byte(j), 0o644); err != nil {
			t.Fatal(err)
		}
		notes, err := recoverOutput(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "user.json") {
			t.Errorf("notes = %q, want one naming user.json", notes)
		}
		requireUserFiles(t, dir)
	})
	t.Run("journal without a run", func(t *testing.T) {
		dir := setup(t)
		j := `{"renames":[],"removes":["user.json"]}`
		if err := os.WriteFile(filepath.Join(dir, journalName), []byte(j), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := recoverOutput(dir); err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Errorf("err = %v, want the journal refused as damaged", err)
		}
		requireUserFiles(t, dir)
	})
	t.Run("manifest and prune", func(t *testing.T) {
		dir := setup(t)
		w := &outputWrite{dir: dir, waiting: func(string) {}, timeout: time.Minute}
		defer w.close()
		files := fleet(2, "v")
		for _, name := range sortedNames(files) {
			if err := w.stage(name, files[name]); err != nil {
				t.Fatal(err)
			}
		}
		w.owned, w.remove = sortedNames(files), []string{"user.json"}
		_, removed, err := w.commit()
		if err != nil || len(removed) != 0 {
			t.Errorf("commit removed %q, %v; want nothing removed", removed, err)
		}
		if len(w.notes) != 1 || !strings.Contains(w.notes[0], "user.json") {
			t.Errorf("notes = %q, want one naming user.json", w.notes)
		}
		requireUserFiles(t, dir)
	})
}

// TestLockWaitSaysWhatItWaitedFor holds an output folder's lock while a generate runs into
// it with a short --timeout: the run must end saying it waited for another run, naming the
// folder, and exit 1.
func TestLockWaitSaysWhatItWaitedFor(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.cue")
	if err := os.WriteFile(spec, []byte("package fleet\n\ndaemons: agent: containers: agent: {image: \"a:1\", memory: 64}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	unlock, err := lockOutput(out, func(string) {}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var stderr strings.Builder
	code := Main([]string{"generate", "-q", "--timeout", "1500ms", "-o", out, spec}, io.Discard, &stderr)
	if code != exitInvalid || !strings.Contains(stderr.String(), "waited for another daemongen run writing into "+out) ||
		strings.Contains(stderr.String(), "module registry") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}
