package gen

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cachedRun generates spec (written as fleet.cue in dir) with cache and returns the files
// and how many checks the cache could not answer.
func cachedRun(t *testing.T, dir, spec string, cache *Cache) (map[string][]byte, []string, int64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	before := cache.misses.Load()
	files, diags, err := Generate(Config{Dir: dir, Paths: []string{"fleet.cue"}, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, FormatDiagnostic(d, dir))
	}
	return files, msgs, cache.misses.Load() - before
}

// TestCacheNeverServesAStaleResult runs a fleet through the cache and changes each part of
// the key in turn: each change must be checked afresh, the rest answered from the cache,
// and the outputs must be those of a run without a cache.
func TestCacheNeverServesAStaleResult(t *testing.T) {
	dir, cache := t.TempDir(), OpenCache(t.TempDir())
	spec := fleetSpec(3)
	uncached, _, _ := Generate(Config{Dir: dir, Paths: []string{writeFleet(t, dir, spec)}})
	run := func(spec string) (map[string][]byte, []string, int64) { return cachedRun(t, dir, spec, cache) }

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
	for name, identity := range map[string]*func() string{"build": &buildIdentity, "schema": &schemaIdentity} {
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
	dir, cache := t.TempDir(), OpenCache(t.TempDir())
	spec := "package fleet\n\ndaemons: agent: containers: agent: {image: \"a:1\", memory: 64, stopTimeout: 300}\n"
	for run := range 2 {
		if _, msgs, misses := cachedRun(t, dir, spec, cache); len(msgs) != 1 || misses != 1 {
			t.Errorf("run %d: %d misses, %q", run, misses, msgs)
		}
	}
}

// TestCacheIgnoresDamagedEntries damages every entry and requires a fresh check that
// replaces them.
func TestCacheIgnoresDamagedEntries(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	cache := OpenCache(cacheDir)
	spec := fleetSpec(2)
	want, _, _ := cachedRun(t, dir, spec, cache)
	filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.WriteFile(p, []byte("0000\n{}"), 0o644)
		}
		return nil
	})
	if files, _, misses := cachedRun(t, dir, spec, cache); misses != 4 || !cmp.Equal(files, want) {
		t.Errorf("damaged entries: %d misses (want 4), same outputs: %v", misses, cmp.Equal(files, want))
	}
	if _, _, misses := cachedRun(t, dir, spec, cache); misses != 0 {
		t.Errorf("after replacing them: %d misses", misses)
	}
}

// TestCacheSharedByConcurrentRuns runs several generates at once on one cache.
func TestCacheSharedByConcurrentRuns(t *testing.T) {
	cacheDir := t.TempDir()
	spec := fleetSpec(4)
	var wg sync.WaitGroup
	results := make([]map[string][]byte, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := t.TempDir()
			results[i], _, _ = Generate(Config{Dir: dir, Paths: []string{writeFleet(t, dir, spec)}, Cache: OpenCache(cacheDir)})
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
	cache := OpenCache(cacheDir)
	cache.limit = 8 << 10
	cachedRun(t, dir, fleetSpec(20), cache)
	var total int64
	filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if info, e := d.Info(); e == nil && !d.IsDir() {
			total += info.Size()
		}
		return nil
	})
	if total > cache.limit {
		t.Errorf("the cache holds %d bytes, over its limit of %d", total, cache.limit)
	}
}
