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

	"github.com/spf13/pflag"

	"github.com/daemongen/daemongen/gen"
)

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1 // a spec has errors, or (with --check) an output is stale
	exitUsage   = 2 // the command line is wrong
)

const usage = `daemongen turns CUE daemon specs into register-ready ECS daemon task definitions.

Usage:
  daemongen generate [-o DIR] [--env NAME] [--var NAME=VALUE] [--var-file FILE] PATH...
      write DIR/[ENV/]FAMILY.json
  daemongen vet [--env NAME] [--var NAME=VALUE] [--var-file FILE] PATH...
      check specs and API-form JSON, write nothing

PATH is a .cue, .hcl or .json file, or a directory of them.
Exit status: 0 valid, 1 invalid, 2 usage error.
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
)

// specFlags are the flags every command that reads specs takes.
type specFlags struct {
	env      string
	vars     []string
	varFiles []string
}

func (f *specFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.env, flagEnv, "", "generate only this environment (default: every declared environment)")
	fs.StringArrayVar(&f.vars, flagVar, nil, "set an HCL variable: `NAME=VALUE` (repeatable)")
	fs.StringArrayVar(&f.varFiles, flagVarFile, nil, "read HCL variables from `FILE` (repeatable)")
}

// config returns the library's configuration for paths, or an error for a malformed --var.
func (f *specFlags) config(paths []string) (gen.Config, error) {
	cfg := gen.Config{Paths: paths, Env: f.env, Dir: workDir()}
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

// parse parses args and checks that some paths remain.
func parse(fs *pflag.FlagSet, args []string, stderr io.Writer) ([]string, bool) {
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "%s: no PATH given\n", fs.Name())
		return nil, false
	}
	return fs.Args(), true
}

// evaluate runs gen.Generate and prints its diagnostics. ok is false when the run must stop
// with code.
func evaluate(cfg gen.Config, stderr io.Writer) (files map[string][]byte, code int, ok bool) {
	files, diags, err := gen.Generate(cfg)
	var usageErr *gen.UsageError
	if errors.As(err, &usageErr) {
		fmt.Fprintf(stderr, "daemongen: %s\n", usageErr.Msg)
		return nil, exitUsage, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return nil, exitInvalid, false
	}
	_ = gen.WriteDiagnostics(stderr, diags, cfg.Dir)
	if diags.HasErrors() {
		return nil, exitInvalid, false
	}
	return files, exitOK, true
}

func runVet(args []string, stdout, stderr io.Writer) int {
	var sf specFlags
	fs := newFlagSet("vet", stderr)
	sf.Bind(fs)
	paths, ok := parse(fs, args, stderr)
	if !ok {
		return exitUsage
	}
	cfg, err := sf.config(paths)
	if err != nil {
		fmt.Fprintf(stderr, "daemongen vet: %v\n", err)
		return exitUsage
	}
	_, code, _ := evaluate(cfg, stderr)
	return code
}

func runGenerate(args []string, stdout, stderr io.Writer) int {
	var (
		sf  specFlags
		out string
	)
	fs := newFlagSet("generate", stderr)
	fs.StringVarP(&out, flagOut, "o", ".", "write the files into `DIR`")
	sf.Bind(fs)
	paths, ok := parse(fs, args, stderr)
	if !ok {
		return exitUsage
	}
	cfg, err := sf.config(paths)
	if err != nil {
		fmt.Fprintf(stderr, "daemongen generate: %v\n", err)
		return exitUsage
	}
	files, code, ok := evaluate(cfg, stderr)
	if !ok {
		return code
	}
	if err := writeFiles(out, files); err != nil {
		fmt.Fprintf(stderr, "daemongen: %v\n", err)
		return exitInvalid
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

// writeFiles writes files below dir. Each file is written to a temporary file beside it and
// renamed into place, so that a reader never sees half a file; a file whose content is
// already right is not touched.
func writeFiles(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !filepath.IsLocal(name) || strings.Contains(name, "..") {
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
