package gen

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStreamEmitsEveryOutputOnce checks that Stream hands over exactly the files Generate
// returns, each once, in the same order run after run, across more than one chunk of units.
func TestStreamEmitsEveryOutputOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(fleetSpec(3*streamChunk/2)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: dir, Paths: []string{"fleet.cue"}}
	want, diags, err := Generate(cfg)
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	var orders [2][]string
	for i := range orders {
		got := map[string][]byte{}
		diags, err := Stream(cfg, func(o Output) error {
			if _, dup := got[o.Name]; dup {
				t.Errorf("%s emitted twice", o.Name)
			}
			got[o.Name] = o.Data
			orders[i] = append(orders[i], o.Name)
			return nil
		})
		if err != nil || diags.HasErrors() {
			t.Fatal(err, diags)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Stream and Generate differ (-generate +stream):\n%s", d)
		}
	}
	if !slices.Equal(orders[0], orders[1]) {
		t.Error("two runs emit in different orders")
	}
	if len(orders[0]) != 3*streamChunk || !slices.Equal(slices.Sorted(maps.Keys(want)), slices.Sorted(slices.Values(orders[0]))) {
		t.Errorf("emitted %d outputs", len(orders[0]))
	}
}

// TestStreamStopsOnEmitError checks that an error of emit ends the run at once and is
// returned.
func TestStreamStopsOnEmitError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(fleetSpec(4)), 0o644); err != nil {
		t.Fatal(err)
	}
	full := errors.New("disk full")
	calls := 0
	_, err := Stream(Config{Dir: dir, Paths: []string{"fleet.cue"}}, func(Output) error {
		calls++
		return full
	})
	if !errors.Is(err, full) || calls != 1 {
		t.Errorf("Stream = %v after %d calls, want the emit error after 1", err, calls)
	}
}
