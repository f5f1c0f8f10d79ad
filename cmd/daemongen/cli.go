package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/daemongen/daemongen/gen"
)

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1 // a spec has errors, or (with --check) an output is stale
	exitUsage   = 2 // the command line is wrong
)

const usage = `daemongen turns CUE and HCL daemon specs into register-ready ECS daemon task definitions.

Usage:
  daemongen generate [-o DIR] [--check [--diff] | --prune] [flags] PATH...
      write DIR/[ENV/]FAMILY.json; --check writes nothing and fails when DIR is stale
  daemongen vet [flags] PATH...
      check specs and API-form JSON, write nothing
  daemongen schema [--format cue|jsonschema]
      print the schema
  daemongen explain FIELD.PATH
  daemongen explain --family FAMILY [--env ENV] FIELD.PATH PATH...
      describe a field, or show a daemon's value and the layers that set it
  daemongen import [--to cue|hcl] [-o DIR] [--factor] FILE.json...
      turn registered JSON into a spec

Flags of generate and vet:
  --env NAME             only this environment (default: every declared environment)
  --var NAME=VALUE       set an HCL variable (repeatable)
  --var-file FILE        read HCL variables from FILE (repeatable)
  --format text|json|github
                         how to print problems (default text)
  --strict               fail on warnings the specs do not acknowledge
  -q, --quiet            no progress

PATH is a .cue, .hcl or .json file, or a directory of them.
Exit status: 0 valid (and current), 1 invalid (or stale), 2 usage error.
`

// Main runs daemongen with args and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "generate":
		return runGenerate(args[1:], stdout, stderr)
	case "vet":
		return runVet(args[1:], stdout, stderr)
	case "schema":
		return runSchema(args[1:], stdout, stderr)
	case "explain":
		return runExplain(args[1:], stdout, stderr)
	case "import":
		return runImport(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "daemongen: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// Flag names.
const (
	flagOut     = "out"
	flagEnv     = "env"
	flagVar     = "var"
	flagVarFile = "var-file"
	flagFormat  = "format"
	flagQuiet   = "quiet"
	flagCheck   = "check"
	flagDiff    = "diff"
	flagPrune   = "prune"
	flagStrict  = "strict"
)

// specFlags are the flags of every command that reads specs.
type specFlags struct {
	env      string
	vars     []string
	varFiles []string
	format   string
	quiet    bool
	strict   bool
}

func (f *specFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.env, flagEnv, "", "generate only this environment (default: every declared environment)")
	fs.StringArrayVar(&f.vars, flagVar, nil, "set an HCL variable: `NAME=VALUE` (repeatable)")
	fs.StringArrayVar(&f.varFiles, flagVarFile, nil, "read HCL variables from `FILE` (repeatable)")
	fs.StringVar(&f.format, flagFormat, gen.FormatText, "print problems as text, json or github")
	fs.BoolVarP(&f.quiet, flagQuiet, "q", false, "show no progress")
	fs.BoolVar(&f.strict, flagStrict, false, "fail on warnings that the specs do not acknowledge with ignoreWarnings")
}

// config returns the library's configuration for paths, or an error for a bad flag value.
func (f *specFlags) config(paths []string) (gen.Config, error) {
	cfg := gen.Config{Paths: paths, Env: f.env, Dir: workDir(), Strict: f.strict}
	if !slices.Contains(gen.Formats, f.format) {
		return cfg, fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(gen.Formats, ", "))
	}
	for _, vf := range f.varFiles {
		if _, err := os.Stat(vf); err != nil {
			return cfg, fmt.Errorf("--var-file %s: no such file", vf)
		}
	}
	cfg.Inputs.VarFiles = f.varFiles
	for _, v := range f.vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return cfg, fmt.Errorf("--var %q: want NAME=VALUE", v)
		}
		if cfg.Inputs.Vars == nil {
			cfg.Inputs.Vars = map[string]string{}
		}
		cfg.Inputs.Vars[name] = value
	}
	return cfg, nil
}

// newFlagSet returns a flag set that reports its errors to stderr.
func newFlagSet(name string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("daemongen "+name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	return fs
}

// parse parses args and checks that at least min arguments remain.
func parse(fs *pflag.FlagSet, args []string, stderr io.Writer, min int, what string) ([]string, bool) {
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	if fs.NArg() < min {
		fmt.Fprintf(stderr, "%s: no %s given\n", fs.Name(), what)
		return nil, false
	}
	return fs.Args(), true
}

// reporter prints diagnostics in the chosen format: text on stderr, json and github on
// stdout, where tools read them.
type reporter struct {
	format         string
	dir            string
	stdout, stderr io.Writer
}

func (r reporter) report(diags hcl.Diagnostics) {
	w := r.stderr
	if r.format != gen.FormatText {
		w = r.stdout
	}
	if len(diags) > 0 || r.format == gen.FormatJSON {
		_ = gen.WriteDiagnosticsAs(w, diags, r.dir, r.format)
	}
}

// evaluate runs gen.Generate with progress and returns its files and diagnostics; code is
// set when the run must stop.
func evaluate(cfg gen.Config, sf specFlags, stderr io.Writer) (files map[string][]byte, diags hcl.Diagnostics, code int, ok bool) {
	if p := newProgress(stderr, sf.quiet); p != nil {
		cfg.Progress = p.update
		defer p.finish()
	}
	files, diags, err := gen.Generate(cfg)
	var usageErr *gen.UsageError
	if errors.As(err, &usageErr) {
		fmt.Fprintf(stderr, "daemongen: %s\n", usageErr.Msg)
		return nil, nil, exitUsage, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return nil, nil, exitInvalid, false
	}
	return files, diags, exitOK, true
}

// specConfig parses the flags and paths of a command that reads specs. ok is false when
// the command line is wrong.
func specConfig(fs *pflag.FlagSet, sf *specFlags, args []string, stderr io.Writer) (gen.Config, bool) {
	paths, ok := parse(fs, args, stderr, 1, "PATH")
	if !ok {
		return gen.Config{}, false
	}
	cfg, err := sf.config(paths)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return cfg, false
	}
	return cfg, true
}

func runVet(args []string, stdout, stderr io.Writer) int {
	var sf specFlags
	fs := newFlagSet("vet", stderr)
	sf.Bind(fs)
	cfg, ok := specConfig(fs, &sf, args, stderr)
	if !ok {
		return exitUsage
	}
	cfg.CheckOnly = true
	_, diags, code, ok := evaluate(cfg, sf, stderr)
	if !ok {
		return code
	}
	reporter{sf.format, cfg.Dir, stdout, stderr}.report(diags)
	if diags.HasErrors() {
		return exitInvalid
	}
	return exitOK
}

func runGenerate(args []string, stdout, stderr io.Writer) int {
	var (
		sf                 specFlags
		out                string
		check, diff, prune bool
	)
	fs := newFlagSet("generate", stderr)
	fs.StringVarP(&out, flagOut, "o", ".", "write the files into `DIR`")
	fs.BoolVar(&check, flagCheck, false, "write nothing; fail when an output is stale, missing or orphaned")
	fs.BoolVar(&diff, flagDiff, false, "with --check: print what generating would change, as a unified diff")
	fs.BoolVar(&prune, flagPrune, false, "remove outputs that no daemon generates any more")
	sf.Bind(fs)
	cfg, ok := specConfig(fs, &sf, args, stderr)
	if !ok {
		return exitUsage
	}
	if prune && (check || diff) {
		fmt.Fprintln(stderr, "daemongen generate: --prune writes; it does not go with --check or --diff")
		return exitUsage
	}
	check = check || diff
	files, diags, code, ok := evaluate(cfg, sf, stderr)
	if !ok {
		return code
	}
	rep := reporter{sf.format, cfg.Dir, stdout, stderr}
	if diags.HasErrors() {
		rep.report(diags)
		return exitInvalid
	}
	st, err := compareOutputs(out, files)
	if err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return exitInvalid
	}
	if check {
		rep.report(gen.Normalize(append(diags, st.diagnostics()...)))
		if diff {
			stdout.Write(st.unifiedDiff())
		}
		if !st.current() {
			return exitInvalid
		}
		return exitOK
	}
	rep.report(diags)
	if err := writeFiles(out, files); err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return exitInvalid
	}
	if prune {
		if err := st.prune(); err != nil {
			fmt.Fprintf(stderr, "daemongen: %v\n", err)
			return exitInvalid
		}
	}
	return exitOK
}

func workDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	return dir
}

// progress shows how many daemons are done on a terminal, once a run takes long enough to
// want it.
type progress struct {
	w     io.Writer
	start time.Time
	shown bool
}

// progressDelay is how long a run goes before it shows progress.
const progressDelay = 300 * time.Millisecond

// newProgress returns a progress display on w, or nil when w is not a terminal or quiet.
func newProgress(w io.Writer, quiet bool) *progress {
	f, ok := w.(*os.File)
	if quiet || !ok {
		return nil
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: w, start: time.Now()}
}

func (p *progress) update(done, total int) {
	if time.Since(p.start) < progressDelay {
		return
	}
	p.shown = true
	fmt.Fprintf(p.w, "\rdaemongen: %d/%d daemons checked", done, total)
}

func (p *progress) finish() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// writeFiles writes files below dir. Each file is written to a temporary file beside it and
// renamed into place, so that a reader never sees half a file; a file whose content is
// already right is not touched.
func writeFiles(dir string, files map[string][]byte) error {
	for _, name := range sortedNames(files) {
		if !filepath.IsLocal(name) {
			return fmt.Errorf("refusing to write %q outside %s", name, dir)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		if err := writeAtomic(target, files[name]); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(target string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".daemongen-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}
