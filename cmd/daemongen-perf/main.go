// Command daemongen-perf measures daemongen against its performance goals, each side by
// side with its anchor in one run on this machine, and prints every ratio:
//
//	go run ./cmd/daemongen-perf [-n 1000] [-runs 3] [-cue PATH]
//
// It builds daemongen from this checkout, writes the fleets of package gen/fleet, and runs
// every measured command as a child process, so that each side is measured the same way:
// wall time, CPU time (user and system, from the child's rusage) and peak RSS, the median
// of -runs runs. The floors (decode and re-encode and write the outputs as plain JSON; the
// SDK's strict decode, validation and serialization of them) are children too: this
// command run as "daemongen-perf floor json|sdk".
//
// The goals:
//  1. generate of a fleet of n daemons in two environments (one spec file): at most 20x
//     the CPU of the JSON floor and 6x the SDK floor over the same outputs.
//  2. linear and flat: the fleet as specs of 100 daemons; CPU per output at 5n within 15%
//     of n, and peak RSS at 10n at most 1.25x that at n and under 200 MB.
//  3. vet of n API-form files: at most 0.35x the wall time and 0.25x the peak RSS of
//     cue vet with the exported schema.
//  4. a rerun with the cache, and --check: at most 3x the JSON floor's CPU; after one
//     daemon changed, at most 5x.
//  5. cold start, vet of one small spec: at most 1.5x cue vet of one file (mean wall).
//  6. the same fleet in HCL: at most 1.2x the CPU of CUE.
//
// Goals 3 and 5 need the cue command (-cue, or cue on PATH); without it they are skipped.
// It runs where rusage exists (Linux, macOS, the BSDs).

//go:build unix

package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/daemongen/daemongen/gen/fleet"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "floor" {
		if err := floor(os.Args[2], os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, "daemongen-perf floor:", err)
			os.Exit(1)
		}
		return
	}
	n := flag.Int("n", 1000, "the fleet size `N` of goals 1, 3, 4 and 6; goal 2 measures N, 5N and 10N")
	runs := flag.Int("runs", 3, "runs of each measurement; the median is reported")
	cuePath := flag.String("cue", "", "the cue command for goals 3 and 5 (default: cue on PATH)")
	keep := flag.Bool("keep", false, "keep the work folder")
	flag.Parse()
	p := &perf{n: *n, runs: *runs}
	if err := p.run(*cuePath, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "daemongen-perf:", err)
		os.Exit(1)
	}
}

// sample is one measured run of a command.
type sample struct {
	wall time.Duration
	cpu  time.Duration // user + system
	rss  int64         // peak resident set, bytes
}

type perf struct {
	n, runs   int
	work      string
	daemongen string
	self      string
	env       []string
	rows      [][]string
}

func (p *perf) run(cuePath string, keep bool) error {
	var err error
	if p.work, err = os.MkdirTemp("", "daemongen-perf-"); err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(p.work)
	} else {
		fmt.Println("work folder:", p.work)
	}
	if p.self, err = os.Executable(); err != nil {
		return err
	}
	p.daemongen = filepath.Join(p.work, "daemongen")
	build := exec.Command("go", "build", "-o", p.daemongen, "./cmd/daemongen")
	build.Dir, build.Stderr = moduleRoot(), os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building daemongen: %w", err)
	}
	// Every run has its own cache folder: no goal but 4 may be answered from a cache.
	p.env = append(os.Environ(), "DAEMONGEN_CACHE="+p.dir("cache"))
	if cuePath == "" {
		cuePath, _ = exec.LookPath("cue")
	}
	p.printMachine(cuePath)

	if err := p.goal1and4(); err != nil {
		return err
	}
	if err := p.goal2(); err != nil {
		return err
	}
	if cuePath == "" {
		p.row("3, 5", "vet against cue vet", "skipped: no cue command (-cue PATH)", "", "", "")
	} else if err := p.goal3and5(cuePath); err != nil {
		return err
	}
	if err := p.goal6(); err != nil {
		return err
	}
	p.printRows()
	return nil
}

// dir returns a new folder of the work folder.
func (p *perf) dir(name string) string {
	d := filepath.Join(p.work, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		panic(err)
	}
	return d
}

// measure runs the command made by each run (given the run's number) p.runs times and
// returns the median of each measure. A command that fails is an error.
func (p *perf) measure(name string, cmdFor func(run int) *exec.Cmd) (sample, error) {
	s, err := p.sideBySide([]string{name}, cmdFor)
	if err != nil {
		return sample{}, err
	}
	return s[0], nil
}

// sideBySide measures commands against each other: each round runs every one once, so
// that a machine that slows down or speeds up (a disk busy writing back what an earlier
// measurement wrote, say) weighs on every side alike. It returns each one's medians.
func (p *perf) sideBySide(names []string, cmdFor ...func(run int) *exec.Cmd) ([]sample, error) {
	samples := make([][]sample, len(cmdFor))
	for run := range p.runs {
		for i, cmdOf := range cmdFor {
			cmd := cmdOf(run)
			if cmd.Env == nil {
				cmd.Env = p.env
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s: %v\n%s", names[i], err, stderr.Bytes())
			}
			wall := time.Since(start)
			u := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			samples[i] = append(samples[i], sample{
				wall: wall,
				cpu:  time.Duration(u.Utime.Nano() + u.Stime.Nano()),
				rss:  maxRSSBytes(u),
			})
		}
	}
	out := make([]sample, len(samples))
	for i, s := range samples {
		out[i] = median(s)
	}
	return out, nil
}

func median(s []sample) sample {
	mid := func(get func(sample) int64) int64 {
		v := make([]int64, len(s))
		for i, x := range s {
			v[i] = get(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{
		wall: time.Duration(mid(func(x sample) int64 { return int64(x.wall) })),
		cpu:  time.Duration(mid(func(x sample) int64 { return int64(x.cpu) })),
		rss:  mid(func(x sample) int64 { return x.rss }),
	}
}

// dg returns a daemongen command.
func (p *perf) dg(args ...string) *exec.Cmd { return exec.Command(p.daemongen, args...) }

// goal1and4 measures generate of one spec of N daemons beside its floors, then reruns.
func (p *perf) goal1and4() error {
	fleetDir := p.dir("fleet")
	paths, err := fleet.Write(fleetDir, p.n, 0)
	if err != nil {
		return err
	}
	// The floors work on the outputs of a first run.
	outputs := filepath.Join(p.work, "out1", "first")
	if _, err := p.measure("first generate", func(int) *exec.Cmd {
		return p.dg(append([]string{"generate", "--no-cache", "-q", "-o", outputs}, paths...)...)
	}); err != nil {
		return err
	}
	count := countFiles(outputs)
	outs, floors := p.dir("out1"), p.dir("floor")
	at, err := p.sideBySide([]string{"generate", "JSON floor", "SDK floor"},
		func(run int) *exec.Cmd {
			return p.dg(append([]string{"generate", "--no-cache", "-q", "-o", filepath.Join(outs, fmt.Sprint(run))}, paths...)...)
		},
		func(run int) *exec.Cmd {
			return exec.Command(p.self, "floor", "json", outputs, filepath.Join(floors, fmt.Sprint(run)))
		},
		func(int) *exec.Cmd { return exec.Command(p.self, "floor", "sdk", outputs) })
	if err != nil {
		return err
	}
	gen, jsonFloor, sdkFloor := at[0], at[1], at[2]
	what := fmt.Sprintf("generate, %d daemons x 2 environments (%d files), CPU", p.n, count)
	p.row("1", what+" / JSON floor", dur(gen.cpu), dur(jsonFloor.cpu), ratio(gen.cpu, jsonFloor.cpu), "<= 20")
	p.row("1", what+" / SDK floor", dur(gen.cpu), dur(sdkFloor.cpu), ratio(gen.cpu, sdkFloor.cpu), "<= 6")

	// Goal 4: the cache is filled by a first run, then nothing changes.
	out4 := filepath.Join(p.work, "out4")
	if _, err := p.measure("first run", func(int) *exec.Cmd { return p.dg(append([]string{"generate", "-q", "-o", out4}, paths...)...) }); err != nil {
		return err
	}
	// Each round changes one daemon to a value no run had before (so that the cache
	// cannot have seen it), then reruns and checks with nothing changed since, beside a
	// JSON floor of its own.
	spec := filepath.Join(fleetDir, "fleet.cue")
	original, err := os.ReadFile(spec)
	if err != nil {
		return err
	}
	generate := func(extra ...string) func(int) *exec.Cmd {
		return func(int) *exec.Cmd {
			return p.dg(append(append([]string{"generate", "-q", "-o", out4}, extra...), paths...)...)
		}
	}
	at4, err := p.sideBySide([]string{"one daemon changed", "rerun", "check", "JSON floor"},
		func(run int) *exec.Cmd {
			text := bytes.Replace(original, []byte(`"example/agent:0"`), fmt.Appendf(nil, `"example/agent:0-%d"`, run), 1)
			if err := os.WriteFile(spec, text, 0o644); err != nil {
				panic(err)
			}
			return generate()(run)
		},
		generate(),
		generate("--check"),
		func(run int) *exec.Cmd {
			return exec.Command(p.self, "floor", "json", outputs, filepath.Join(floors, fmt.Sprint("4-", run)))
		})
	if err != nil {
		return err
	}
	changed, rerun, check, jsonFloor := at4[0], at4[1], at4[2], at4[3]
	if err := os.WriteFile(spec, original, 0o644); err != nil {
		return err
	}
	p.row("4", "rerun with the cache, nothing changed, CPU / JSON floor", dur(rerun.cpu), dur(jsonFloor.cpu), ratio(rerun.cpu, jsonFloor.cpu), "<= 3")
	p.row("4", "--check with the cache, CPU / JSON floor", dur(check.cpu), dur(jsonFloor.cpu), ratio(check.cpu, jsonFloor.cpu), "<= 3")
	p.row("4", "one daemon of N changed, CPU / JSON floor", dur(changed.cpu), dur(jsonFloor.cpu), ratio(changed.cpu, jsonFloor.cpu), "<= 5")
	return nil
}

// goal2 measures the fleet as specs of 100 daemons at N, 5N and 10N.
func (p *perf) goal2() error {
	sizes := []int{p.n, 5 * p.n, 10 * p.n}
	var names []string
	var cmds []func(int) *exec.Cmd
	for _, n := range sizes {
		paths, err := fleet.Write(p.dir(fmt.Sprintf("teams%d", n)), n, 100)
		if err != nil {
			return err
		}
		outs := p.dir(fmt.Sprintf("out-teams%d", n))
		names = append(names, fmt.Sprintf("generate of %d daemons", n))
		cmds = append(cmds, func(run int) *exec.Cmd {
			return p.dg(append([]string{"generate", "--no-cache", "-q", "-o", filepath.Join(outs, fmt.Sprint(run))}, paths...)...)
		})
	}
	at, err := p.sideBySide(names, cmds...)
	if err != nil {
		return err
	}
	perOutput := func(i int) time.Duration { return at[i].cpu / time.Duration(2*sizes[i]) }
	p.row("2", fmt.Sprintf("CPU per output at %d / at %d daemons (specs of 100)", sizes[1], sizes[0]),
		dur(perOutput(1)), dur(perOutput(0)), ratio(perOutput(1), perOutput(0)), "<= 1.15")
	p.row("2", fmt.Sprintf("peak RSS at %d / at %d daemons (specs of 100)", sizes[2], sizes[0]),
		mb(at[2].rss), mb(at[0].rss), ratio(time.Duration(at[2].rss), time.Duration(at[0].rss)), "<= 1.25")
	p.row("2", fmt.Sprintf("peak RSS at %d daemons", sizes[2]), mb(at[2].rss), "200 MB",
		ratio(time.Duration(at[2].rss), time.Duration(200<<20)), "<= 1")
	return nil
}

// goal3and5 measures vet against cue vet with the exported schema.
func (p *perf) goal3and5(cuePath string) error {
	schema := filepath.Join(p.work, "schema.cue")
	out, err := p.dg("schema").Output()
	if err != nil {
		return fmt.Errorf("daemongen schema: %w", err)
	}
	if err := os.WriteFile(schema, out, 0o644); err != nil {
		return err
	}
	apiDir := filepath.Join(p.work, "out1", "first", "dev")
	files, err := filepath.Glob(filepath.Join(apiDir, "*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no outputs in %s", apiDir)
	}
	cueVet := func(files ...string) *exec.Cmd {
		return exec.Command(cuePath, append([]string{"vet", "-c", "-d", "#DaemonTaskDefinition", schema}, files...)...)
	}
	vets, err := p.sideBySide([]string{"vet", "cue vet"},
		func(int) *exec.Cmd { return p.dg("vet", "--no-cache", apiDir) },
		func(int) *exec.Cmd { return cueVet(files...) })
	if err != nil {
		return err
	}
	vet, cue := vets[0], vets[1]
	what := fmt.Sprintf("vet of %d API-form files / cue vet", len(files))
	p.row("3", what+", wall", dur(vet.wall), dur(cue.wall), ratio(vet.wall, cue.wall), "<= 0.35")
	p.row("3", what+", peak RSS", mb(vet.rss), mb(cue.rss), ratio(time.Duration(vet.rss), time.Duration(cue.rss)), "<= 0.25")

	// Goal 5: one small spec, and one file for cue; the mean of 20 runs each.
	small := p.dir("small")
	if _, err := fleet.Write(small, 1, 0); err != nil {
		return err
	}
	one := filepath.Join(p.dir("small-out"), "one.json")
	data, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	if err := os.WriteFile(one, data, 0o644); err != nil {
		return err
	}
	mean := func(cmd func() *exec.Cmd) (time.Duration, error) {
		var total time.Duration
		for range 20 {
			c := cmd()
			c.Env = p.env
			start := time.Now()
			if out, err := c.CombinedOutput(); err != nil {
				return 0, fmt.Errorf("%v: %v\n%s", c.Args, err, out)
			}
			total += time.Since(start)
		}
		return total / 20, nil
	}
	dgCold, err := mean(func() *exec.Cmd { return p.dg("vet", "--no-cache", filepath.Join(small, "fleet.cue")) })
	if err != nil {
		return err
	}
	cueCold, err := mean(func() *exec.Cmd { return cueVet(one) })
	if err != nil {
		return err
	}
	p.row("5", "cold start, vet of one small spec / cue vet of one file, mean wall", dur(dgCold), dur(cueCold), ratio(dgCold, cueCold), "<= 1.5")
	return nil
}

// goal6 measures the same fleet written in HCL and in CUE.
func (p *perf) goal6() error {
	hclDir := p.dir("hcl")
	hclSpec := filepath.Join(hclDir, "fleet.hcl")
	if err := os.WriteFile(hclSpec, []byte(fleet.HCL(p.n)), 0o644); err != nil {
		return err
	}
	outs := p.dir("out6")
	gen := func(name, spec string) func(int) *exec.Cmd {
		return func(run int) *exec.Cmd {
			return p.dg("generate", "--no-cache", "-q", "-o", filepath.Join(outs, name, fmt.Sprint(run)), spec)
		}
	}
	at, err := p.sideBySide([]string{"HCL", "CUE"}, gen("hcl", hclSpec), gen("cue", filepath.Join(p.work, "fleet", "fleet.cue")))
	if err != nil {
		return err
	}
	h, c := at[0], at[1]
	p.row("6", fmt.Sprintf("generate of %d daemons, HCL / CUE, CPU", p.n), dur(h.cpu), dur(c.cpu), ratio(h.cpu, c.cpu), "<= 1.2")
	return nil
}

func (p *perf) row(cells ...string) { p.rows = append(p.rows, cells) }

func (p *perf) printRows() {
	header := []string{"goal", "measure", "daemongen", "anchor", "ratio", "limit", "met"}
	fmt.Println("| " + strings.Join(header, " | ") + " |")
	fmt.Println("|" + strings.Repeat("---|", len(header)))
	for _, r := range p.rows {
		met := ""
		if len(r) == 6 && r[5] != "" {
			met = "no"
			var got, limit float64
			if _, err := fmt.Sscan(r[4], &got); err == nil {
				if _, err := fmt.Sscan(strings.TrimPrefix(r[5], "<= "), &limit); err == nil && got <= limit {
					met = "yes"
				}
			}
		}
		fmt.Println("| " + strings.Join(append(r, met), " | ") + " |")
	}
}

func (p *perf) printMachine(cuePath string) {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	cueVersion := "none"
	if cuePath != "" {
		if out, err := exec.Command(cuePath, "version").Output(); err == nil {
			first, _, _ := strings.Cut(string(out), "\n")
			cueVersion = strings.TrimSpace(first)
		}
	}
	fmt.Printf("machine: %s/%s, %d CPUs (%s), %s; cue: %s; median of %d runs\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cmp.Or(model, "unknown model"), runtime.Version(), cueVersion, p.runs)
}

// floor runs a floor over the outputs in a folder: "json SRC DST" decodes each output,
// encodes it again and writes it below DST; "sdk SRC" decodes each strictly into the
// SDK's input type and lets the SDK validate and serialize it.
func floor(kind string, args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: floor json SRC DST | floor sdk SRC")
	}
	src := args[0]
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") || strings.HasPrefix(d.Name(), ".") {
			return err // the outputs only, not daemongen's manifest
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch kind {
		case "json":
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				return err
			}
			out, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			target := filepath.Join(args[1], rel)
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, append(out, '\n'), 0o644)
		case "sdk":
			_, err := fleet.SDKWireBody(data)
			return err
		}
		return fmt.Errorf("unknown floor %q", kind)
	})
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	return n
}

// moduleRoot is the folder of daemongen's go.mod, where go build runs.
func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
}

// maxRSSBytes is the peak RSS of a rusage: Linux counts it in KiB, Darwin in bytes.
func maxRSSBytes(u *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return u.Maxrss
	}
	return u.Maxrss << 10
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func ratio(a, b time.Duration) string { return fmt.Sprintf("%.2f", float64(a)/float64(b)) }
