package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/daemongen/daemongen/gen"
	"github.com/daemongen/daemongen/internal/diag"
)

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1 // a spec has errors, or (with --check) an output is stale
	exitUsage   = 2 // the command line is wrong
	exitCrash   = 3 // daemongen itself failed: a bug, reported with its stack
)

// command is one of daemongen's commands.
type command struct {
	name    string
	summary string // one line, for the list of commands
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands are daemongen's commands, in the order help lists them.
var commands []command

func init() {
	commands = []command{
		{"generate", "write DIR/[ENV/]FAMILY.json; --check writes nothing and fails when DIR is stale", runGenerate},
		{"vet", "check specs and API-form JSON, write nothing", runVet},
		{"fmt", "format CUE and HCL specs", runFmt},
		{"fleet", "show each environment's daemons side by side, as every instance runs them", runFleet},
		{"explain", "describe a field, or show a daemon's value and the layers that set it", runExplain},
		{"import", "turn registered JSON into a spec", runImport},
		{"schema", "print the schema, as CUE or JSON Schema", runSchema},
		{"completion", "print a shell completion script: bash, zsh or fish", runCompletion},
		{"version", "print daemongen's version and the API version of its schema (also --version)", runVersion},
		{"help", "show this help, or a command's: daemongen help COMMAND", runHelp},
	}
}

// lookupCommand returns the command called name.
func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// commandNames lists the commands' names.
func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// exitCodesHelp says what each exit code means.
const exitCodesHelp = `Exit status:
  0    valid (and, with --check, current)
  1    invalid, stale, or a write that failed
  2    usage error: unknown command or flag, a bad flag value, a missing path, an
       environment no spec declares
  3    internal error: a bug in daemongen, reported with its stack (please report it)
  130  interrupted by SIGINT; 143 by SIGTERM (a write removes what it staged)
`

// usage is daemongen's help: every command, every command's flags with their defaults
// (read from the commands' own flags), the paths it takes and every exit code.
func usage() string {
	var b strings.Builder
	b.WriteString("daemongen turns CUE and HCL daemon specs into register-ready ECS daemon task definitions.\n\n")
	b.WriteString("Usage:\n  daemongen COMMAND [flags] [PATH...]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	for _, c := range commands {
		fs := flagSetOf(c.name)
		if fs == nil || !fs.HasFlags() {
			continue
		}
		fmt.Fprintf(&b, "\nFlags of %s:\n%s", c.name, fs.FlagUsages())
	}
	b.WriteString(`
PATH is a .cue, .hcl or .json file, a directory of them, or - for standard input (vet,
fmt, import). 'daemongen help COMMAND' or 'daemongen COMMAND --help' shows a command's help.

`)
	b.WriteString(exitCodesHelp)
	return b.String()
}

// captureFlagSet, when set, receives each flag set newFlagSet makes: flagSetOf reads a
// command's flags from the command itself.
var captureFlagSet func(*pflag.FlagSet)

// flagSetOf returns the flags of command name, as the command binds them, by running it
// with --help into nothing.
func flagSetOf(name string) *pflag.FlagSet {
	c, ok := lookupCommand(name)
	if !ok || name == "help" {
		return nil
	}
	var fs *pflag.FlagSet
	captureFlagSet = func(f *pflag.FlagSet) {
		if fs == nil {
			fs = f
		}
	}
	defer func() { captureFlagSet = nil }()
	c.run([]string{"--help"}, io.Discard, io.Discard)
	return fs
}

// Main runs daemongen with args and returns its exit code. A panic, which is a bug, is
// reported with its stack and exits with exitCrash, never with the usage error's 2.
func Main(args []string, stdout, stderr io.Writer) (code int) {
	crashed := make(chan crash, 1)
	defer func() {
		select {
		case c := <-crashed:
			c.report(stderr)
			code = exitCrash
		default:
		}
	}()
	defer recoverCrash(crashed)
	return run(args, stdout, stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "--version", "-version":
		return runVersion(nil, stdout, stderr)
	case "-h", "--help", "-help":
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if c, ok := lookupCommand(args[0]); ok {
		return c.run(args[1:], stdout, stderr)
	}
	if args[0] == completeCommand {
		return runComplete(args[1:], stdout)
	}
	msg := fmt.Sprintf("daemongen: unknown command %q", args[0])
	if s := diag.Suggest(args[0], commandNames()); s != "" {
		msg += fmt.Sprintf("; did you mean %q", s)
	}
	fmt.Fprintf(stderr, "%s; see 'daemongen help'\n", msg)
	return exitUsage // one line, as git says it
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stdout, stderr)
	if _, code, ok := parse(fs, args, stderr, 0, ""); !ok {
		return code
	}
	if fs.NArg() > 0 {
		usageError(stderr, fs.Name(), "takes no arguments")
		return exitUsage
	}
	fmt.Fprintf(stdout, "daemongen %s\nschema: RegisterDaemonTaskDefinition of %s\n", moduleVersion(), gen.SchemaSource)
	return exitOK
}

// runHelp is daemongen help [COMMAND], as git and go take it.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "help":
		fmt.Fprint(stdout, usage())
		return exitOK
	case len(args) > 1:
		usageError(stderr, "daemongen help", "takes one command")
		return exitUsage
	}
	if _, ok := lookupCommand(args[0]); !ok {
		return run(args, stdout, stderr) // says it is unknown, with a suggestion
	}
	return run([]string{args[0], "--help"}, stdout, stderr)
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
	flagTimeout = "timeout"
	flagTag     = "tag"
	flagNoCache = "no-cache"
	flagMaxMem  = "max-memory"
	flagPolicy  = "policy"
	// flagAllowEmpty lets --prune remove every output.
	flagAllowEmpty = "allow-empty"
)

// defaultTimeout bounds the evaluation of the specs: a fleet of thousands of daemons takes
// well under a minute, so a run that takes longer is waiting on something.
const defaultTimeout = 5 * time.Minute

// specFlags are the flags of every command that reads specs.
type specFlags struct {
	env      string
	policies []string
	tags     []string
	vars     []string
	varFiles []string
	format   string
	quiet    bool
	strict   bool
	timeout  time.Duration
	noCache  bool
	// maxMemory is --max-memory as given, and maxMemoryBytes what it says, set by config.
	maxMemory      string
	maxMemoryBytes uint64
	// color is --color, and colored what it means for stderr, set by config.
	color   string
	colored bool
	// lockWait holds the folder generate waits on while another run holds its lock, so
	// that a --timeout says what it waited for; nil for the other commands.
	lockWait *atomic.Value
}

func (f *specFlags) Bind(fs *pflag.FlagSet) {
	f.bindInputs(fs)
	fs.StringVar(&f.format, flagFormat, gen.FormatText, "print problems as `FORMAT`: text (stderr), json, github (Actions annotations) or sarif (code scanning), on stdout")
	f.bindRun(fs)
}

// bindInputs binds the flags that choose and feed the specs.
func (f *specFlags) bindInputs(fs *pflag.FlagSet) {
	fs.StringVar(&f.env, flagEnv, "", "only this environment (default: every declared environment)")
	fs.StringArrayVarP(&f.tags, flagTag, "t", nil, "set a CUE @tag value: `KEY=VALUE` (repeatable), as cue -t does")
	fs.StringArrayVar(&f.vars, flagVar, nil, "set an HCL variable: `NAME=VALUE` (repeatable)")
	fs.StringArrayVar(&f.varFiles, flagVarFile, nil, "read HCL variables from `FILE` (repeatable)")
	fs.StringArrayVar(&f.policies, flagPolicy, nil, "check every daemon against the policy `PATH`, a CUE file or folder (repeatable; default: policy/ at the root of the repository or CUE module)")
}

// bindRun binds the flags that bound and tune a run.
func (f *specFlags) bindRun(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.quiet, flagQuiet, "q", false, "show no progress")
	fs.BoolVar(&f.strict, flagStrict, false, "fail on warnings that the specs do not acknowledge with ignoreWarnings")
	fs.DurationVar(&f.timeout, flagTimeout, defaultTimeout, "stop when evaluating the specs takes longer than `DURATION`")
	fs.StringVar(&f.maxMemory, flagMaxMem, defaultMaxMemory, "stop when evaluating the specs holds more than `SIZE` of memory")
	fs.BoolVar(&f.noCache, flagNoCache, false, "check every daemon again, without the cache of daemons that passed ($DAEMONGEN_CACHE)")
	bindColor(fs, &f.color)
}

// config returns the library's configuration for paths, or an error for a bad flag value.
func (f *specFlags) config(paths []string) (gen.Config, error) {
	cfg := gen.Config{Paths: paths, Env: f.env, Dir: workDir(), Strict: f.strict, Tags: f.tags, Policies: f.policies}
	// DAEMONGEN_TODAY sets the date policy exceptions expire by (a test's, or to see
	// what a later day brings); nothing else depends on the date.
	cfg.Today = os.Getenv("DAEMONGEN_TODAY")
	if _, err := time.Parse(time.DateOnly, cfg.Today); cfg.Today != "" && err != nil {
		return cfg, fmt.Errorf("DAEMONGEN_TODAY=%q: want a date, YYYY-MM-DD", cfg.Today)
	}
	for _, t := range f.tags {
		if key, _, ok := strings.Cut(t, "="); !ok || key == "" {
			return cfg, fmt.Errorf("--tag %q: want KEY=VALUE", t)
		}
	}
	var err error
	if f.colored, err = useColor(f.color, os.Stderr); err != nil {
		return cfg, err
	}
	if f.timeout <= 0 {
		return cfg, fmt.Errorf("--%s %v: want a positive duration, such as 30s or 5m", flagTimeout, f.timeout)
	}
	if f.maxMemoryBytes, err = parseSize(f.maxMemory); err != nil {
		return cfg, fmt.Errorf("--%s %v", flagMaxMem, err)
	}
	cfg.Inputs.Environ = os.Environ()
	if !f.noCache {
		if dir, err := gen.DefaultCacheDir(); err == nil {
			cfg.Cache = gen.OpenCache(dir)
		}
	}
	if f.format == "" {
		f.format = gen.FormatText // daemongen fleet's own --format is its report's
	}
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

// commandHelp is the synopsis and description of each command, shown by -h above its flags.
var commandHelp = map[string]string{
	"generate": `Usage: daemongen generate [-o DIR] [--check [--diff] | --prune -o DIR] [flags] PATH...

Evaluate the specs and write DIR/FAMILY.json, or DIR/ENV/FAMILY.json when they declare
environments. Nothing is written when any daemon has an error; otherwise every file is
written, or none. --check writes nothing and fails when DIR is stale.`,
	"vet": `Usage: daemongen vet [flags] PATH...

Check specs and API-form JSON files against the schema; write nothing.`,
	"fleet": `Usage: daemongen fleet [--env ENV] [--format text|json|markdown] [flags] PATH...

Check the specs as vet does, then print, for each environment, one row per daemon (cpu,
memory hard and reserved, the ports it listens on, its host paths read-only or writable,
privileged, added capabilities, pidMode and ipcMode) and the totals against the
environment's budget: what a change does to every instance. markdown is for a pull
request's comment, json for tools.`,
	"version": `Usage: daemongen version

Print daemongen's version and the SDK version of the API that its schema encodes.`,
	"completion": `Usage: daemongen completion bash|zsh|fish

Print a script that completes daemongen's commands, flags, the values of flags with fixed
choices, environment names from the specs on the line, and paths. See the README for
where each shell reads it from.`,
	"schema": `Usage: daemongen schema [--format cue|jsonschema]

Print the schema: CUE for cue vet, or JSON Schema 2020-12 for editors.`,
	"explain": `Usage: daemongen explain FIELD.PATH
       daemongen explain --family FAMILY [--env ENV] FIELD.PATH PATH...

Describe a field of the API, or show a daemon's value and the layers that set it.`,
	"import": `Usage: daemongen import [--to cue|hcl] [-o DIR] [--factor] FILE.json...

Turn registered JSON (register input or describe output) into a spec.`,
	"fmt": `Usage: daemongen fmt [--check] [-d] PATH...

Format CUE specs as cue fmt does and HCL specs as terraform fmt does; write only the files
that change.`,
}

// newFlagSet returns the flag set of command name: errors go to stderr, -h to stdout.
func newFlagSet(name string, stdout, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("daemongen "+name, pflag.ContinueOnError)
	if captureFlagSet != nil {
		captureFlagSet(fs)
	}
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stdout, "%s\n", commandHelp[name])
		if fs.HasFlags() {
			fmt.Fprintf(stdout, "\nFlags:\n%s", fs.FlagUsages())
		}
	}
	return fs
}

// parse parses args and checks that at least min arguments remain. When it returns
// ok false, the command ends with code: exitOK after -h, exitUsage after a mistake, which
// it has reported in one line.
func parse(fs *pflag.FlagSet, args []string, stderr io.Writer, min int, what string) (rest []string, code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, exitOK, false
		}
		usageError(stderr, fs.Name(), err.Error())
		return nil, exitUsage, false
	}
	if fs.NArg() < min {
		usageError(stderr, fs.Name(), "no "+what+" given")
		return nil, exitUsage, false
	}
	return fs.Args(), exitOK, true
}

// usageError reports a mistake on the command line of command, with where to find help.
func usageError(stderr io.Writer, command, msg string) {
	fmt.Fprintf(stderr, "%s: %s; see '%s --help'\n", command, msg, command)
}

// reporter prints diagnostics in the chosen format: text on stderr, json and github on
// stdout, where tools read them.
type reporter struct {
	format         string
	dir            string
	stdout, stderr io.Writer
	color          bool // text on a terminal, in color
}

func (r reporter) report(diags hcl.Diagnostics) {
	w := r.stderr
	if r.format != gen.FormatText {
		w = r.stdout
	}
	switch {
	case len(diags) == 0 && r.format != gen.FormatJSON && r.format != gen.FormatSARIF:
	case r.format == gen.FormatText && r.color:
		_ = gen.WriteDiagnosticsColored(w, diags, r.dir)
	case r.format == gen.FormatSARIF:
		_ = gen.WriteDiagnosticsAs(w, diags, repositoryRoot(r.dir), r.format)
	default:
		_ = gen.WriteDiagnosticsAs(w, diags, r.dir, r.format)
	}
}

// repositoryRoot returns the root of the git repository dir is in (the folder that holds
// .git), or dir: SARIF locations are relative to the repository, as code scanning wants.
func repositoryRoot(dir string) string {
	for d := dir; d != ""; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return dir
}

// flagColor is --color; colorModes its values.
const flagColor = "color"

var colorModes = []string{"auto", "always", "never"}

// bindColor adds --color to fs.
func bindColor(fs *pflag.FlagSet, mode *string) {
	fs.StringVar(mode, flagColor, "auto", "color diagnostics: auto (on a terminal, unless NO_COLOR is set), always or never")
}

// useColor tells whether diagnostics written to w are colored in mode: always; never;
// auto, on a terminal unless NO_COLOR is set (https://no-color.org) or TERM is dumb.
func useColor(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb", nil
	}
	return false, fmt.Errorf("--%s %q: want %s", flagColor, mode, strings.Join(colorModes, ", "))
}

// evaluate runs gen.Stream with progress, passing each output to emit, and returns the
// diagnostics; code is set when the run must stop. After a stop, emit is no longer
// called.
func evaluate(command string, cfg gen.Config, sf specFlags, stderr io.Writer, emit func(gen.Output) error) (diags hcl.Diagnostics, code int, ok bool) {
	if p := newProgress(stderr, sf.quiet); p != nil {
		cfg.Progress = p.update
		defer p.finish()
	}
	var (
		mu      sync.Mutex
		stopped bool
	)
	defer func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
	}()
	guarded := func(o gen.Output) error {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return errStopped
		}
		return emit(o)
	}
	var (
		streamed hcl.Diagnostics // not diags: after a stop, work may still set it
		err      error
	)
	if code, ok := bounded(&cfg, sf, stderr, func() { streamed, err = gen.Stream(cfg, guarded) }); !ok {
		return nil, code, false
	}
	var usageErr *gen.UsageError
	if errors.As(err, &usageErr) {
		usageError(stderr, command, usageErr.Msg)
		return nil, exitUsage, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return nil, exitInvalid, false
	}
	return streamed, exitOK, true
}

// bounded runs work, which evaluates the specs of cfg, and waits for it to finish: for at
// most --timeout, and while the run holds at most --max-memory. A stop says which source
// was being evaluated (it sets cfg.Evaluating, which work must see); a panic in work is
// reported as a crash. ok is false when work did not finish, and code says why.
func bounded(cfg *gen.Config, sf specFlags, stderr io.Writer, work func()) (code int, ok bool) {
	var evaluating atomic.Value
	evaluating.Store("the specs")
	cfg.Evaluating = func(source string) { evaluating.Store(source) }
	stopWatching := make(chan struct{})
	defer close(stopWatching)
	overMemory := watchMemory(sf.maxMemoryBytes, stopWatching)
	done := make(chan struct{})
	crashed := make(chan crash, 1)
	go func() {
		defer recoverCrash(crashed)
		work()
		close(done)
	}()
	select {
	case <-done:
		return exitOK, true
	case c := <-crashed:
		c.report(stderr)
		return exitCrash, false
	case <-time.After(sf.timeout):
		if dir, waiting := lockWaitOf(sf); waiting {
			fmt.Fprintf(stderr, "daemongen: stopped after --%s %v: waited for another daemongen run writing into %s to finish; try again when it ends\n", flagTimeout, sf.timeout, dir)
			return exitInvalid, false
		}
		fmt.Fprintf(stderr, "daemongen: stopped after --%s %v, evaluating %s: the specs took longer to evaluate (a module registry that does not answer?)\n", flagTimeout, sf.timeout, evaluating.Load())
		return exitInvalid, false
	case live := <-overMemory:
		fmt.Fprintf(stderr, "daemongen: stopped evaluating %s: it held %s of memory, more than --%s %s and far more than any daemon task definition needs (a list.Range or a comprehension over a huge list?)\n",
			evaluating.Load(), formatSize(live>>20<<20), flagMaxMem, formatSize(sf.maxMemoryBytes))
		return exitInvalid, false
	}
}

// lockWaitOf returns the folder whose lock the run waits for, if it does.
func lockWaitOf(sf specFlags) (dir string, waiting bool) {
	if sf.lockWait == nil {
		return "", false
	}
	dir, waiting = sf.lockWait.Load().(string)
	return dir, waiting
}

// errStopped is what emit returns once a run has stopped.
var errStopped = errors.New("the run has stopped")

// crash is a panic, which is a bug in daemongen, never a verdict on the specs.
type crash struct {
	value any
	stack []byte
}

// recoverCrash sends a panic of the calling goroutine to crashed. It is deferred.
func recoverCrash(crashed chan<- crash) {
	if v := recover(); v != nil {
		crashed <- crash{v, debug.Stack()}
	}
}

func (c crash) report(w io.Writer) {
	fmt.Fprintf(w, "daemongen: internal error, please report it with the input that caused it: %v\n%s", c.value, c.stack)
}

// specConfig parses the flags and paths of a command that reads specs. When ok is false
// the command ends with code (see [parse]).
func specConfig(fs *pflag.FlagSet, sf *specFlags, args []string, stderr io.Writer) (cfg gen.Config, code int, ok bool) {
	paths, code, ok := parse(fs, args, stderr, 1, "PATH")
	if !ok {
		return gen.Config{}, code, false
	}
	cfg, err := sf.config(paths)
	if err != nil {
		usageError(stderr, fs.Name(), err.Error())
		return cfg, exitUsage, false
	}
	return cfg, exitOK, true
}

func runVet(args []string, stdout, stderr io.Writer) int {
	var (
		sf   specFlags
		lang string
	)
	fs := newFlagSet("vet", stdout, stderr)
	sf.Bind(fs)
	bindLang(fs, &lang)
	cfg, code, ok := specConfig(fs, &sf, args, stderr)
	if !ok {
		return code
	}
	cfg.CheckOnly = true
	return withStdin("vet", cfg.Paths, lang, stdout, stderr, func(paths []string, stdout, stderr io.Writer) int {
		cfg.Paths = paths
		diags, code, ok := evaluate(fs.Name(), cfg, sf, stderr, func(gen.Output) error { return nil })
		if !ok {
			return code
		}
		reporter{sf.format, cfg.Dir, stdout, stderr, sf.colored}.report(diags)
		if diags.HasErrors() {
			return exitInvalid
		}
		return exitOK
	})
}

// bindLang adds --lang, the language of standard input, to fs.
func bindLang(fs *pflag.FlagSet, lang *string) {
	fs.StringVar(lang, "lang", "", "the language of standard input (-): cue, hcl or json (default: told from its text)")
}

func runGenerate(args []string, stdout, stderr io.Writer) int {
	var (
		sf                             specFlags
		out                            string
		check, diff, prune, allowEmpty bool
	)
	fs := newFlagSet("generate", stdout, stderr)
	fs.StringVarP(&out, flagOut, "o", ".", "write the files into `DIR`")
	fs.BoolVar(&check, flagCheck, false, "write nothing; fail when an output is stale, missing or orphaned")
	fs.BoolVar(&diff, flagDiff, false, "with --check: print what generating would change, as a unified diff")
	fs.BoolVar(&prune, flagPrune, false, "remove the outputs daemongen wrote that no daemon generates any more (needs -o)")
	fs.BoolVar(&allowEmpty, flagAllowEmpty, false, "with --prune: allow removing every output when the specs define no daemon")
	sf.Bind(fs)
	cfg, code, ok := specConfig(fs, &sf, args, stderr)
	if !ok {
		return code
	}
	if out == "" {
		usageError(stderr, fs.Name(), "-o needs a folder; -o . is the current one")
		return exitUsage
	}
	if slices.Contains(cfg.Paths, stdinPath) {
		usageError(stderr, fs.Name(), "generate does not read standard input (-): its outputs, the cache and --check and --prune are tied to spec files; save the spec to a file, or check it with daemongen vet -")
		return exitUsage
	}
	if prune && (check || diff) {
		usageError(stderr, fs.Name(), "--prune writes; it does not go with --check or --diff")
		return exitUsage
	}
	if prune {
		if msg := pruneRefusal(fs.Changed(flagOut), out, cfg); msg != "" {
			usageError(stderr, fs.Name(), msg)
			return exitUsage
		}
	}
	check = check || diff
	rep := reporter{sf.format, cfg.Dir, stdout, stderr, sf.colored}
	if check {
		return checkOutputs(fs.Name(), cfg, sf, out, diff, regenCommand(args), rep, stdout, stderr)
	}
	// Outputs go to temporary files in the output folder as they are generated, under the
	// folder's lock, and are renamed into place only when the whole run is clean.
	sf.lockWait = &atomic.Value{}
	w := &outputWrite{dir: out, timeout: sf.timeout, waiting: func(folder string) {
		sf.lockWait.Store(folder)
		fmt.Fprintf(stderr, "daemongen: waiting for another daemongen run writing into %s\n", folder)
	}}
	defer w.close()
	defer stopOnSignal(w, stderr)()
	diags, code, ok := evaluate(fs.Name(), cfg, sf, stderr, func(o gen.Output) error { return w.stage(o.Name, o.Data) })
	if !ok {
		w.abort()
		return code
	}
	rep.report(diags)
	if diags.HasErrors() {
		w.abort()
		return exitInvalid
	}
	if err := w.begin(); err != nil { // a run without outputs has not begun yet
		w.abort()
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return exitInvalid
	}
	owned := w.previous
	// A sorted list, not a map: a fleet's write holds little per output.
	sortedProduced := slices.Sorted(slices.Values(w.produced))
	produced := func(name string) bool {
		_, found := slices.BinarySearch(sortedProduced, name)
		return found
	}
	orphaned := orphans(out, owned, produced, cfg.Env)
	if prune {
		if len(sortedProduced) == 0 && len(orphaned) > 0 && !allowEmpty {
			w.abort()
			fmt.Fprintf(stderr, "daemongen: the specs define no daemon, so --prune would remove every output in %s (%d files); check the specs, or pass --%s\n", out, len(orphaned), flagAllowEmpty)
			return exitInvalid
		}
		w.remove = orphaned
	}
	// The manifest keeps what this run leaves in place: the other environments' outputs,
	// and orphans that were not pruned.
	for _, name := range owned {
		if !produced(name) && !(prune && slices.Contains(orphaned, name)) {
			w.owned = append(w.owned, name)
		}
	}
	w.owned = slices.Compact(slices.Sorted(slices.Values(append(w.owned, sortedProduced...))))
	written, removed, err := w.commit()
	for _, note := range w.notes {
		fmt.Fprintf(stderr, "daemongen: %s\n", note)
	}
	if err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return exitInvalid
	}
	for _, name := range removed {
		fmt.Fprintf(stderr, "daemongen: removed %s\n", filepath.ToSlash(filepath.Join(out, filepath.FromSlash(name))))
	}
	if !prune && len(orphaned) > 0 && !sf.quiet {
		fmt.Fprintln(stderr, orphansLine(out, orphaned))
	}
	if isTerminal(stderr) && !sf.quiet && !underGoGenerate() {
		fmt.Fprintln(stderr, summaryLine(len(written), len(sortedProduced)-len(written), len(removed)))
	}
	return exitOK
}

// checkOutputs is generate --check: it compares each output with the folder as it is
// generated, holding only what a diff needs.
func checkOutputs(command string, cfg gen.Config, sf specFlags, out string, diff bool, regen string, rep reporter, stdout, stderr io.Writer) int {
	st := newOutputState(out, cfg.Env, diff, regen)
	diags, code, ok := evaluate(command, cfg, sf, stderr, st.add)
	if !ok {
		return code
	}
	if diags.HasErrors() {
		rep.report(diags)
		return exitInvalid
	}
	owned, err := readManifest(out)
	if err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return exitInvalid
	}
	st.finish(owned)
	rep.report(gen.Normalize(append(diags, st.diagnostics()...)))
	if diff {
		stdout.Write(st.unifiedDiff())
	}
	if !st.current() {
		return exitInvalid
	}
	return exitOK
}

// regenCommand is the generate that brings the outputs of a generate --check with args up
// to date: the same command line less --check, --diff and --format, quoted for a shell.
func regenCommand(args []string) string {
	words := []string{"daemongen", "generate"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(a, "=")
		switch name {
		case "--" + flagCheck, "--" + flagDiff:
			continue
		case "--" + flagFormat:
			if !hasValue {
				i++ // its value
			}
			continue
		}
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pruneRefusal says why --prune must not run, or "": without an explicit -o it would
// prune the working directory, and with the specs inside the output folder it could
// remove what it reads.
func pruneRefusal(outGiven bool, out string, cfg gen.Config) string {
	if !outGiven {
		return "--prune needs -o DIR, the folder whose outputs it removes"
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err.Error()
	}
	for _, p := range cfg.Paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(cfg.Dir, p)
		}
		if rel, err := filepath.Rel(absOut, abs); err == nil && filepath.IsLocal(rel) || abs == absOut {
			return fmt.Sprintf("--prune refuses to run: the spec path %s lies inside the output folder %s; keep specs and outputs apart", p, out)
		}
		if rel, err := filepath.Rel(abs, absOut); err == nil && filepath.IsLocal(rel) {
			return fmt.Sprintf("--prune refuses to run: the output folder %s lies inside the spec path %s; keep specs and outputs apart", out, p)
		}
	}
	return ""
}

// orphansLine says which outputs a generate without --prune left in place although no
// daemon generates them any more, and how to remove them.
func orphansLine(out string, orphaned []string) string {
	var shown []string
	for _, name := range orphaned[:min(len(orphaned), 5)] {
		shown = append(shown, filepath.ToSlash(filepath.Join(out, filepath.FromSlash(name))))
	}
	list := strings.Join(shown, ", ")
	if len(orphaned) > len(shown) {
		list += fmt.Sprintf(" and %d more", len(orphaned)-len(shown))
	}
	if len(orphaned) == 1 {
		return fmt.Sprintf("daemongen: left %s, which no daemon generates any more; daemongen generate --prune -o %s removes it", list, out)
	}
	return fmt.Sprintf("daemongen: left %d outputs that no daemon generates any more (%s); daemongen generate --prune -o %s removes them", len(orphaned), list, out)
}

// summaryLine is what generate says at the end of a run on a terminal.
func summaryLine(written, unchanged, removed int) string {
	return fmt.Sprintf("daemongen: %d written, %d unchanged, %d removed", written, unchanged, removed)
}

// underGoGenerate reports whether go generate runs daemongen (it sets GOPACKAGE), where a
// successful run prints nothing, even on a terminal.
func underGoGenerate() bool { return os.Getenv("GOPACKAGE") != "" }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// moduleVersion is daemongen's version as the Go toolchain stamped it: the module version
// for go install ...@v1.2.3, a pseudo-version or (devel) for a build from a checkout.
func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
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
	if quiet || !isTerminal(w) || underGoGenerate() {
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
