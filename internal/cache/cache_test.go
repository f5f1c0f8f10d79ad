package cache_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/daemongen/daemongen/gen"
	"github.com/daemongen/daemongen/gen/fleet"
	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/diag"
)

// cachedRun generates spec (written as fleet.cue in dir) with cache and returns the files
// and how many checks the cache could not answer.
func cachedRun(t *testing.T, dir, spec string, c *cache.Cache) (map[string][]byte, []string, int64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	before := c.Stats().Misses
	files, diags, err := gen.Generate(gen.Config{Dir: dir, Paths: []string{"fleet.cue"}, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, diag.FormatDiagnostic(d, dir))
	}
	return files, msgs, c.Stats().Misses - before
}

// inModule makes dir a CUE module, whose specs the cache remembers daemon by daemon.
func inModule(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "cue.mod"), 0o755); err != nil {
		t.Fatal(err)
	}
	module := "module: \"example.com/fleet@v0\"\nlanguage: version: \"v0.12.0\"\n"
	if err := os.WriteFile(filepath.Join(dir, "cue.mod", "module.cue"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDaemonCacheNeverServesAStaleResult runs a fleet of a CUE module (which the cache
// remembers daemon by daemon) through the cache and changes each part of a daemon's key in
// turn: each change must be checked afresh, the rest answered from the cache, and the
// outputs must be those of a run without a cache.
func TestDaemonCacheNeverServesAStaleResult(t *testing.T) {
	dir, c := inModule(t, t.TempDir()), cache.Open(t.TempDir())
	spec := fleet.Spec(3)
	uncached, _, _ := gen.Generate(gen.Config{Dir: dir, Paths: []string{writeFleet(t, dir, spec)}})
	run := func(spec string) (map[string][]byte, []string, int64) { return cachedRun(t, dir, spec, c) }

	if files, _, misses := run(spec); misses != 6 || !cmp.Equal(files, uncached) {
		t.Fatalf("first run: %d misses (want 6), same outputs: %v", misses, cmp.Equal(files, uncached))
	}
	if files, _, misses := run(spec); misses != 0 || !cmp.Equal(files, uncached) {
		t.Fatalf("unchanged rerun: %d misses (want 0), same outputs: %v", misses, cmp.Equal(files, uncached))
	}
	// A value of one daemon: that daemon in both environments.
	changed := strings.Replace(spec, `image: "example/agent:1"`, `image: "example/agent:1b"`, 1)
	if files, _, misses := run(changed); misses != 2 || !strings.Contains(string(files["dev/agent-1.json"]), "agent:1b") {
		t.Errorf("one daemon changed: %d misses (want 2)", misses)
	}
	// An environment's defaults: every daemon in that environment.
	if _, _, misses := run(strings.Replace(spec, "memoryReservation: 16", "memoryReservation: 17", 1)); misses != 3 {
		t.Errorf("prod's defaults changed: %d misses (want 3)", misses)
	}
	// The warnings a daemon acknowledges.
	if _, _, misses := run(spec + "daemons: \"agent-0\": ignoreWarnings: [\"task-cpu-range\"]\n"); misses != 2 {
		t.Errorf("acknowledged warnings changed: %d misses (want 2)", misses)
	}
	// The build and the schema: everything.
	for name, identity := range map[string]*func() string{"build": cache.BuildIdentity, "schema": cache.SchemaIdentity} {
		orig := *identity
		*identity = func() string { return "another " + name }
		if _, _, misses := run(spec); misses != 6 {
			t.Errorf("another %s: %d misses (want 6)", name, misses)
		}
		*identity = orig
	}
}

// writeSpec writes spec as fleet.cue in dir and returns its name.
func writeFleet(t *testing.T, dir, spec string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return "fleet.cue"
}

// TestCacheKeepsNoDiagnostic checks that a daemon with a warning is checked, and warned
// about, on every run.
func TestCacheKeepsNoDiagnostic(t *testing.T) {
	spec := "package fleet\n\ndaemons: agent: containers: agent: {image: \"a:1\", memory: 64, stopTimeout: 300}\n"
	// A source remembered whole, and daemons remembered one by one.
	for _, dir := range []string{t.TempDir(), inModule(t, t.TempDir())} {
		c := cache.Open(t.TempDir())
		for run := range 2 {
			_, msgs, misses := cachedRun(t, dir, spec, c)
			if len(msgs) != 1 || c.Stats().SourceHits != 0 || misses > 1 {
				t.Errorf("run %d: %d misses, %d sources replayed, %q", run, misses, c.Stats().SourceHits, msgs)
			}
		}
	}
}

// TestCacheIgnoresDamagedEntries damages every entry and requires a fresh check that
// replaces them.
func TestCacheIgnoresDamagedEntries(t *testing.T) {
	dir, cacheDir := inModule(t, t.TempDir()), t.TempDir()
	c := cache.Open(cacheDir)
	spec := fleet.Spec(2)
	want, _, _ := cachedRun(t, dir, spec, c)
	filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.WriteFile(p, []byte("0000\n{}"), 0o644)
		}
		return nil
	})
	if files, _, misses := cachedRun(t, dir, spec, c); misses != 4 || !cmp.Equal(files, want) {
		t.Errorf("damaged entries: %d misses (want 4), same outputs: %v", misses, cmp.Equal(files, want))
	}
	if _, _, misses := cachedRun(t, dir, spec, c); misses != 0 {
		t.Errorf("after replacing them: %d misses", misses)
	}
}

// TestCacheSharedByConcurrentRuns runs several generates at once on one cache.
func TestCacheSharedByConcurrentRuns(t *testing.T) {
	cacheDir := t.TempDir()
	spec := fleet.Spec(4)
	var wg sync.WaitGroup
	results := make([]map[string][]byte, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := t.TempDir()
			results[i], _, _ = gen.Generate(gen.Config{Dir: dir, Paths: []string{writeFleet(t, dir, spec)}, Cache: cache.Open(cacheDir)})
		}()
	}
	wg.Wait()
	for i := range results {
		if len(results[i]) != 8 || !cmp.Equal(results[i], results[0]) {
			t.Errorf("run %d differs or is incomplete: %d files", i, len(results[i]))
		}
	}
}

// TestCacheIsBounded fills a small cache past its limit and requires it trimmed.
func TestCacheIsBounded(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	c := cache.Open(cacheDir)
	c.SetLimit(8 << 10)
	cachedRun(t, dir, fleet.Spec(20), c)
	var total int64
	filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if info, e := d.Info(); e == nil && !d.IsDir() {
			total += info.Size()
		}
		return nil
	})
	if total > c.Limit() {
		t.Errorf("the cache holds %d bytes, over its limit of %d", total, c.Limit())
	}
}

// TestSourceCacheNeverServesAStaleResult runs a fleet that the cache remembers whole
// through it, and changes each part of the source's key in turn: the file's bytes, the
// folder's files, the tags, the path, the environments a file without its own is made
// for, the build and the schema. Each change must be evaluated afresh; a rerun without
// change, or of fewer environments, must be replayed; and every run's outputs must be
// those of a run without a cache.
func TestSourceCacheNeverServesAStaleResult(t *testing.T) {
	c := cache.Open(t.TempDir())
	dir := t.TempDir()
	spec := fleet.Spec(3)
	writeFleet(t, dir, spec)
	run := func(name string, cfg gen.Config, wantReplayed int64) {
		t.Helper()
		want, wantDiags, err := gen.Generate(gen.Config{Dir: cfg.Dir, Paths: cfg.Paths, Tags: cfg.Tags, Env: cfg.Env})
		if err != nil {
			t.Fatal(err)
		}
		before := c.Stats().SourceHits
		cfg.Cache = c
		files, diags, err := gen.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if replayed := c.Stats().SourceHits - before; replayed != wantReplayed {
			t.Errorf("%s: %d sources replayed, want %d", name, replayed, wantReplayed)
		}
		if !cmp.Equal(files, want) || len(diags) != len(wantDiags) {
			t.Errorf("%s: the outputs differ from a run without the cache (-want +got):\n%s", name, cmp.Diff(want, files))
		}
	}
	base := gen.Config{Dir: dir, Paths: []string{"."}}
	run("first run", base, 0)
	run("rerun", base, 1)
	run("one environment", gen.Config{Dir: dir, Paths: []string{"."}, Env: "prod"}, 1)

	writeFleet(t, dir, strings.Replace(spec, `image: "example/agent:1"`, `image: "example/agent:1b"`, 1))
	run("a daemon's value", base, 0)
	run("rerun after the change", base, 1)

	if err := os.WriteFile(filepath.Join(dir, "more.cue"), []byte("package fleet\n\ndefaults: taskRoleArn: \"app\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("a file added to the folder", base, 0)
	run("a tag", gen.Config{Dir: dir, Paths: []string{"."}, Tags: []string{"owner=me"}}, 0)

	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	run("the folder moved", gen.Config{Dir: moved, Paths: []string{"."}}, 0)

	for name, identity := range map[string]*func() string{"build": cache.BuildIdentity, "schema": cache.SchemaIdentity} {
		orig := *identity
		*identity = func() string { return "another " + name }
		run("another "+name, gen.Config{Dir: moved, Paths: []string{"."}}, 0)
		*identity = orig
	}

	// An API-form file has no environments of its own: it is made for the run's.
	api := t.TempDir()
	data := []byte(`{"family": "solo", "containerDefinitions": [{"name": "a", "image": "busybox:1", "memory": 64}]}`)
	if err := os.WriteFile(filepath.Join(api, "solo.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	run("an API-form file", gen.Config{Dir: api, Paths: []string{"solo.json"}}, 0)
	run("an API-form file again", gen.Config{Dir: api, Paths: []string{"solo.json"}}, 1)
	run("an API-form file beside a spec with environments", gen.Config{Dir: api, Paths: []string{"solo.json", moved}}, 1)
}

// TestChangedSourceReusesItsUnchangedDaemons changes one daemon of a source the cache
// remembers whole, and requires the run to take every other daemon's output from the
// source's latest record, the changed one checked and rendered anew, and the outputs of a
// run without the cache. A mistake in the changed daemon is reported as ever.
func TestChangedSourceReusesItsUnchangedDaemons(t *testing.T) {
	c := cache.Open(t.TempDir())
	dir := t.TempDir()
	spec := fleet.Spec(10)
	cachedRun(t, dir, spec, c)
	if n := c.Stats().Reused; n != 0 {
		t.Fatalf("the first run reused %d outputs", n)
	}
	changed := strings.Replace(spec, `image: "example/agent:3"`, `image: "example/agent:3b"`, 1)
	writeFleet(t, dir, changed)
	want, _, err := gen.Generate(gen.Config{Dir: dir, Paths: []string{"fleet.cue"}})
	if err != nil {
		t.Fatal(err)
	}
	got, msgs, _ := cachedRun(t, dir, changed, c)
	if n := c.Stats().Reused; n != 18 {
		t.Errorf("reused %d outputs, want the 18 of the 9 unchanged daemons in 2 environments", n)
	}
	if len(msgs) != 0 || !cmp.Equal(got, want) {
		t.Errorf("the outputs differ from a run without the cache (-want +got):\n%s\n%q", cmp.Diff(want, got), msgs)
	}
	if !strings.Contains(string(got["prod/agent-3.json"]), "example/agent:3b") {
		t.Errorf("the changed daemon's output is stale:\n%s", got["prod/agent-3.json"])
	}

	broken := strings.Replace(changed, `memory: 256`, `memory: 1`, 1)
	files, msgs, _ := cachedRun(t, dir, broken, c)
	if files != nil || len(msgs) != 1 || !strings.Contains(msgs[0], "memory") {
		t.Errorf("a mistake in the changed daemon: %d files, %q", len(files), msgs)
	}
}

// TestCacheTouchesOnlyItsOwnFiles points the cache at a folder that holds a user's files,
// some named like entries, and fills it far past its limit: the trim must remove only
// entries it wrote, and a file named like an entry but not one must never be served.
func TestCacheTouchesOnlyItsOwnFiles(t *testing.T) {
	cacheDir := t.TempDir()
	c := cache.Open(cacheDir)
	c.SetLimit(8 << 10)
	key := strings.Repeat("ab", 32)
	userFiles := map[string][]byte{
		"photo.jpg":                    bytes.Repeat([]byte{0xff, 0xd8}, 20<<10),
		"thesis/chapter-1.tex":         bytes.Repeat([]byte("\\section{Intro}\n"), 2<<10),
		"ab/notes.txt":                 []byte("not an entry"),
		"ab/" + key + ".json":          []byte(cache.HexSum([]byte("{}")) + "\n{}"),
		"ab/" + key + ".json.x.tmp":    []byte("someone else's temporary"),
		"s0/s0" + key[2:] + "x.json":   []byte("a near miss"),
		"other-program/cache.bin":      bytes.Repeat([]byte{1}, 30<<10),
		"ab/" + key + ".json.0123.tmp": []byte("short random part"),
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, data := range userFiles {
		p := filepath.Join(cacheDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old) // the oldest files of the folder: trimmed first if taken for entries
	}
	if data, ok := c.Read(key); ok {
		t.Errorf("a user's file was read as the entry of %s: %q", key, data)
	}
	for range 3 {
		cachedRun(t, inModule(t, t.TempDir()), fleet.Spec(20), c)
	}
	for name, data := range userFiles {
		got, err := os.ReadFile(filepath.Join(cacheDir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %v; the cache removed or changed a file it did not write", name, err)
		}
	}
	var own int64
	filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.HasPrefix(b, []byte(cache.EntryMagic)) {
				info, _ := d.Info()
				own += info.Size()
			}
		}
		return nil
	})
	if own > c.Limit() {
		t.Errorf("the cache's own entries take %d bytes, over its limit of %d", own, c.Limit())
	}
}

// TestCacheEntryIsBoundToItsKey swaps two entries, plants hand-made ones, a FIFO and a
// link to /dev/zero: none may be served, the run must not hang, and the outputs must be
// those of a run without a cache.
func TestCacheEntryIsBoundToItsKey(t *testing.T) {
	specs := map[string]string{
		"one": "package fleet\n\ndaemons: agent: containers: agent: {image: \"agent:1\", memory: 64}\n",
		"two": "package fleet\n\ndaemons: other: containers: other: {image: \"other:1\", memory: 64}\n",
	}
	for _, perDaemon := range []bool{false, true} {
		t.Run(fmt.Sprintf("perDaemon=%v", perDaemon), func(t *testing.T) {
			cacheDir := t.TempDir()
			c := cache.Open(cacheDir)
			dirs, want := map[string]string{}, map[string]map[string][]byte{}
			for name, spec := range specs {
				dirs[name] = t.TempDir()
				if perDaemon {
					inModule(t, dirs[name])
				}
				want[name], _, _ = cachedRun(t, dirs[name], spec, cache.Open(t.TempDir()))
				cachedRun(t, dirs[name], spec, c)
			}
			var entries []string
			filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !strings.HasPrefix(filepath.Base(p), "l") {
					entries = append(entries, p)
				}
				return nil
			})
			if len(entries) < 2 {
				t.Fatalf("%d entries", len(entries))
			}
			tamper := []func(p string) error{
				func(p string) error { // swapped: another entry's bytes, header and all
					other := entries[0]
					if other == p {
						other = entries[1]
					}
					b, err := os.ReadFile(other)
					if err != nil {
						return err
					}
					return os.WriteFile(p, b, 0o600)
				},
				func(p string) error { // hand-made, with a header that names the key
					key := strings.TrimSuffix(filepath.Base(p), ".json")
					return os.WriteFile(p, []byte(cache.EntryHeader(key, []byte("not json at all"))+"not json at all"), 0o600)
				},
				func(p string) error { os.Remove(p); return syscall.Mkfifo(p, 0o600) },
				func(p string) error { os.Remove(p); return os.Symlink("/dev/zero", p) },
			}
			for i, f := range tamper {
				for _, p := range entries {
					if err := f(p); err != nil {
						t.Fatal(err)
					}
				}
				for name, spec := range specs {
					done := make(chan map[string][]byte, 1)
					go func() { got, _, _ := cachedRun(t, dirs[name], spec, c); done <- got }()
					select {
					case got := <-done:
						if diff := cmp.Diff(want[name], got); diff != "" {
							t.Errorf("tampering %d, %s (-want +got):\n%s", i, name, diff)
						}
					case <-time.After(30 * time.Second):
						t.Fatalf("tampering %d: the run hung on a cache entry", i)
					}
				}
			}
		})
	}
}

// TestCacheHoldsNoSensitiveValue generates an HCL daemon with a sensitive variable through
// the cache: no cache file may hold its value, and the cache is its owner's alone.
func TestCacheHoldsNoSensitiveValue(t *testing.T) {
	dir, cacheDir := t.TempDir(), filepath.Join(t.TempDir(), "cache")
	spec := `variable "token" {
  type      = string
  sensitive = true
  default   = "s3cr3t-v4lue"
}
daemon "agent" {
  container "agent" {
    image       = "agent:1"
    memory      = 64
    environment = { TOKEN = var.token }
  }
}
daemon "plain" {
  container "plain" {
    image  = "plain:1"
    memory = 64
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	c := cache.Open(cacheDir)
	for range 2 {
		files, diags, err := gen.Generate(gen.Config{Dir: dir, Paths: []string{"fleet.hcl"}, Cache: c})
		if err != nil || diags.HasErrors() || !bytes.Contains(files["agent.json"], []byte("s3cr3t-v4lue")) {
			t.Fatalf("generate: %v %v %s", err, diags, files["agent.json"])
		}
	}
	entries := 0
	filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		switch {
		case d.IsDir() && info.Mode().Perm() != 0o700:
			t.Errorf("%s: mode %v, want 0700", p, info.Mode().Perm())
		case !d.IsDir():
			entries++
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
			}
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("s3cr3t")) {
				t.Errorf("%s holds the sensitive value", p)
			}
		}
		return nil
	})
	if entries == 0 {
		t.Error("nothing was cached: the daemon without sensitive values should be")
	}
}

// TestReplayedRecordNamesOnlyOutputs plants a record whose header is right but whose
// outputs are named outside the output folder, or hold no JSON: it must not be replayed.
func TestReplayedRecordNamesOnlyOutputs(t *testing.T) {
	c := cache.Open(t.TempDir())
	key := "s" + strings.Repeat("0", 64)
	for _, units := range []map[string][]cache.RecordedOutput{
		{"": {{Name: "../../etc/passwd.json", Data: "{}"}}},
		{"prod": {{Name: "prod/../../x.json", Data: "{}"}}},
		{"prod": {{Name: "dev/x.json", Data: "{}"}}},
		{"": {{Name: "x.json", Data: "not json at all"}}},
		{"": {{Name: ".daemongen-manifest.json", Data: "{}"}}},
	} {
		data, _ := json.Marshal(cache.Record{Units: units})
		c.Put(key, data)
		if r := c.GetRecord(key); r != nil {
			t.Errorf("record %s was served", data)
		}
	}
	good, _ := json.Marshal(cache.Record{Units: map[string][]cache.RecordedOutput{"prod": {{Name: "prod/x.json", Data: "{}"}}}})
	c.Put(key, good)
	if c.GetRecord(key) == nil {
		t.Error("a good record was not served")
	}
}
