package gen

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daemongen/daemongen/gen/fleet"
)

// fleetSpec is fleet.Spec: n daemons with shared defaults and two environments.
func fleetSpec(n int) string { return fleet.Spec(n) }

var (
	fleetOut     = flag.String("fleet-out", "", "also write fleetSpec(-fleet-n) to this file (fleet.cue in its folder), for measuring the command")
	fleetN       = flag.Int("fleet-n", 1000, "the number of daemons -fleet-out writes")
	fleetPerSpec = flag.Int("fleet-per-spec", 0, "with -fleet-out: split the fleet into specs of this many daemons, each in a folder of its own beside the file")
)

// TestFleetSpec checks that the benchmarks' fleet generates one file per daemon and
// environment. With -fleet-out it also writes a fleet of -fleet-n daemons, to measure the
// command itself:
//
//	go test ./gen -run TestFleetSpec -fleet-out /tmp/fleet/fleet.cue -fleet-n 1000
//	/usr/bin/time -f '%U+%S s CPU, %M KB' daemongen generate -q -o /tmp/out /tmp/fleet
//
// With -fleet-per-spec 100 it writes the fleet as specs of 100 daemons, one folder each
// (team-000/fleet.cue, ...), to pass as /tmp/fleet/team-*.
func TestFleetSpec(t *testing.T) {
	files, diags := generateText(t, "fleet.cue", fleetSpec(5))
	if diags.HasErrors() || len(files) != 10 {
		t.Fatalf("fleetSpec(5): %d files, %v", len(files), diags)
	}
	if *fleetOut != "" {
		if _, err := fleet.Write(filepath.Dir(*fleetOut), *fleetN, *fleetPerSpec); err != nil {
			t.Fatal(err)
		}
	}
}

// fleetHCL is fleet.HCL: fleetSpec(n) in HCL.
func fleetHCL(n int) string { return fleet.HCL(n) }

// TestFleetHCLMatchesCUE checks that the HCL fleet generates exactly the CUE fleet's files,
// so that benchmarks compare the two front ends on the same work.
func TestFleetHCLMatchesCUE(t *testing.T) {
	fromCUE, diags := generateText(t, "fleet.cue", fleetSpec(3))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fromHCL, diags := generateText(t, "fleet.hcl", fleetHCL(3))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(fromCUE) != 6 || !cmp.Equal(fromCUE, fromHCL) {
		t.Errorf("the fleets differ (-cue +hcl):\n%s", cmp.Diff(fromCUE, fromHCL))
	}
}

// BenchmarkFrontEnds measures generating the same fleet from CUE and from HCL.
//
//	go test ./gen -run '^$' -bench FrontEnds -benchtime 1x -count 3
func BenchmarkFrontEnds(b *testing.B) {
	for _, lang := range []string{"cue", "hcl"} {
		b.Run(lang, func(b *testing.B) {
			text := fleetSpec(200)
			if lang == "hcl" {
				text = fleetHCL(200)
			}
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fleet."+lang), []byte(text), 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := Config{Dir: dir, Paths: []string{"fleet." + lang}}
			b.ReportAllocs()
			for b.Loop() {
				files, diags, err := Generate(cfg)
				if err != nil || diags.HasErrors() || len(files) != 400 {
					b.Fatalf("generate: %v %v, %d files", err, diags, len(files))
				}
			}
		})
	}
}

// BenchmarkGenerate measures a whole run: load, layer, lower, check and render every
// daemon in both environments. Run with: go test ./gen -run '^$' -bench Generate -benchmem
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("daemons=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(fleetSpec(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := Config{Dir: dir, Paths: []string{"fleet.cue"}}
			for b.Loop() {
				files, diags, err := Generate(cfg)
				if err != nil || diags.HasErrors() || len(files) != 2*n {
					b.Fatalf("generate: %v %v, %d files", err, diags, len(files))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*2*n), "µs/daemon")
		})
	}
}

// BenchmarkFleet measures generate of fleetSpec(N), N daemons in two environments, side by
// side with two floors over the same 2N outputs: decoding and re-encoding them as plain
// JSON, and the SDK's own work on them (a strict decode into its input type, its
// validation and its serialization). Writing files is left out on every side: Generate
// returns data. gen/perf.sh prints the ratios. Run with:
//
//	go test ./gen -run '^$' -bench Fleet -benchtime 1x -count 3
func BenchmarkFleet(b *testing.B) {
	for _, n := range []int{100, 1000} {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(fleetSpec(n)), 0o644); err != nil {
			b.Fatal(err)
		}
		cfg := Config{Dir: dir, Paths: []string{"fleet.cue"}}
		files, diags, err := Generate(cfg)
		if err != nil || diags.HasErrors() || len(files) != 2*n {
			b.Fatalf("generate: %v %v, %d files", err, diags, len(files))
		}
		b.Run(fmt.Sprintf("generate/daemons=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Generate(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("json-floor/daemons=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, data := range files {
					var v any
					if err := json.Unmarshal(data, &v); err != nil {
						b.Fatal(err)
					}
					if _, err := json.MarshalIndent(v, "", "  "); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("sdk-floor/daemons=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, data := range files {
					sdkWireBody(b, data)
				}
			}
		})
	}
}

// BenchmarkRun measures a whole Generate of a spec, checked from scratch (300 daemons) and
// rerun with a warm cache (1000 daemons): allocations per run are exact, so that a change
// of the pipeline is held to what it costs (compare with benchstat).
func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct {
		name   string
		n      int
		cached bool
	}{{"checked/daemons=300", 300, false}, {"warm-cache/daemons=1000", 1000, true}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fleet.cue"), []byte(fleetSpec(tc.n)), 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := Config{Dir: dir, Paths: []string{"fleet.cue"}}
			if tc.cached {
				cfg.Cache = OpenCache(b.TempDir())
				if _, _, err := Generate(cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if files, diags, err := Generate(cfg); err != nil || diags.HasErrors() || len(files) != 2*tc.n {
					b.Fatalf("generate: %v %v, %d files", err, diags, len(files))
				}
			}
		})
	}
}
