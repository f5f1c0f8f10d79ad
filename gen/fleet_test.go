package gen

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/diag"
)

// fleetRun generates the files (name: text) in a folder of their own, each its own spec,
// with cache, and returns every diagnostic, formatted.
func fleetDiags(t *testing.T, dir string, files map[string]string, cache *cache.Cache) []string {
	t.Helper()
	var paths []string
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Dir(name))
	}
	slices.Sort(paths) // the order a user would name them in
	return generateDiags(t, Config{Dir: dir, Paths: paths, Cache: cache}, nil)
}

// generateDiags runs Generate with cfg and returns its diagnostics formatted relative to
// cfg.Dir, less those skip says are another test's.
func generateDiags(t *testing.T, cfg Config, skip func(d *hcl.Diagnostic) bool) []string {
	t.Helper()
	_, diags, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range diags {
		if skip == nil || !skip(d) {
			out = append(out, diag.FormatDiagnostic(d, cfg.Dir))
		}
	}
	return out
}

const (
	statsdCUE = `package a

environments: {dev: {}, prod: {}}
daemons: statsd: {
	listens: ["8125/udp"]
	containers: statsd: {image: "statsd:1.0", memory: 512}
	volumes: logs: "/var/log/agents"
	containers: statsd: mountPoints: logs: "/logs"
}
`
	dogstatsdHCL = `environment "dev" {}
environment "prod" {
  defaults {
    budget {
      memory = 600
    }
  }
}
daemon "dogstatsd" {
  listens = ["8125/udp", "8126/tcp"]
  volumes = { logs = "/var/log" }
  container "agent" {
    image              = "dd:7"
    memory_reservation = 256
    mount_point "logs" {
      container_path = "/logs"
      read_only      = true
    }
  }
}
`
)

// TestFleetChecks checks the daemons of an environment together, from two teams' specs,
// one CUE and one HCL: a port both listen on is an error naming both places, a host path
// one writes and the other reads a warning naming both, a budget their sum exceeds an
// error listing each daemon's share, largest first. Each passes once the clash is gone,
// and a rerun with the cache (every source replayed) reports the same.
func TestFleetChecks(t *testing.T) {
	files := map[string]string{"a/fleet.cue": statsdCUE, "b/fleet.hcl": dogstatsdHCL}
	want := []string{
		"a/fleet.cue:4:10: warning: volumes: statsd writes the host path /var/log/agents of every instance, which dogstatsd (/var/log at b/fleet.hcl:9:8) mounts too: one can change what the other reads; mount it read-only, or give each daemon a path of its own [shared-host-path] (in dogstatsd/dev, dogstatsd/prod, statsd/dev, statsd/prod)",
		"a/fleet.cue:5:12: listens: 8125/udp is taken: dogstatsd listens on it too (b/fleet.hcl:10:14); an environment's daemons run on every instance in one network namespace, so each needs a port of its own (in dogstatsd/dev, dogstatsd/prod, statsd/dev, statsd/prod)",
		"b/fleet.hcl:4:5: budget.memory: the daemons of prod take 768 MiB on every instance, over the memory budget of 600: statsd 512, dogstatsd 256 (in dogstatsd/prod, statsd/prod)",
	}
	cache := cache.Open(t.TempDir())
	dir := t.TempDir()
	for run := range 2 {
		got := fleetDiags(t, dir, files, cache)
		if strings.Join(got, "\n") != strings.Join(sortedLike(want, got), "\n") || len(got) != len(want) {
			t.Errorf("run %d:\ngot  %q\nwant %q", run, got, want)
		}
	}
	if cache.Stats().SourceHits == 0 {
		t.Error("the rerun replayed no source: the cached daemons' facts were not tested")
	}
	// Each clash resolved, nothing left.
	fixed := map[string]string{
		"a/fleet.cue": strings.NewReplacer(`"8125/udp"`, `"9125/udp"`, `mountPoints: logs: "/logs"`, `mountPoints: logs: {containerPath: "/logs", readOnly: true}`).Replace(statsdCUE),
		"b/fleet.hcl": strings.Replace(dogstatsdHCL, "memory = 600", "memory = 800", 1),
	}
	if got := fleetDiags(t, t.TempDir(), fixed, nil); len(got) > 0 {
		t.Errorf("after the fixes: %q", got)
	}
}

// sortedLike returns want in the order got has it, for a comparison that names what is
// missing.
func sortedLike(want, got []string) []string {
	var out []string
	for _, g := range got {
		for _, w := range want {
			if g == w {
				out = append(out, w)
			}
		}
	}
	return out
}

// TestFleetFieldsAreChecked holds listens and budget to their forms, at their lines, in
// CUE and HCL.
func TestFleetFieldsAreChecked(t *testing.T) {
	for name, tc := range map[string]struct{ file, text, want string }{
		"port out of range": {"a/fleet.cue", "package a\n\ndaemons: x: {listens: [\"70000/tcp\"], containers: x: {image: \"x:1\", memory: 64}}\n",
			`a/fleet.cue:3:24: daemons.x.listens[0]: invalid value "70000/tcp": must be PORT/tcp or PORT/udp, PORT a whole number from 1 to 65535 ("8125/udp")`},
		"protocol": {"a/fleet.hcl", "daemon \"x\" {\n  listens = [\"53/sctp\"]\n  container \"x\" {\n    image = \"x:1\"\n    memory = 64\n  }\n}\n",
			`a/fleet.hcl:2:14: daemon.x.listens[0]: invalid value "53/sctp": must be PORT/tcp or PORT/udp, PORT a whole number from 1 to 65535 ("8125/udp")`},
		"budget in a daemon": {"a/fleet.cue", "package a\n\ndaemons: x: {budget: cpu: 1, containers: x: {image: \"x:1\", memory: 64}}\n",
			`a/fleet.cue:3:14: daemons.x.budget: budget belongs in defaults, or an environment's defaults: it is what one instance gives all the daemons of an environment`},
		"budget field": {"a/fleet.cue", "package a\n\ndefaults: budget: cpus: 1\ndaemons: x: containers: x: {image: \"x:1\", memory: 64}\n",
			`a/fleet.cue:3:19: defaults.budget.cpus: unknown field; did you mean "cpu"?`},
	} {
		t.Run(name, func(t *testing.T) {
			got := fleetDiags(t, t.TempDir(), map[string]string{tc.file: tc.text}, nil)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
