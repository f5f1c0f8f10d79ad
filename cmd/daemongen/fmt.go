package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"

	"github.com/daemongen/daemongen/gen"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/safefile"
)

func runFmt(args []string, stdout, stderr io.Writer) int {
	var (
		check, showDiff, quiet bool
		lang, color            string
	)
	fs := newFlagSet("fmt", stdout, stderr)
	fs.BoolVar(&check, flagCheck, false, "write nothing; list the files that are not formatted and exit 1")
	fs.BoolVarP(&showDiff, "diff", "d", false, "print what formatting changes, as a unified diff")
	fs.BoolVarP(&quiet, flagQuiet, "q", false, "do not list the files rewritten")
	bindLang(fs, &lang)
	bindColor(fs, &color)
	paths, code, ok := parse(fs, args, stderr, 1, "PATH")
	if !ok {
		return code
	}
	colored, err := useColor(color, stderr)
	if err != nil {
		usageError(stderr, fs.Name(), err.Error())
		return exitUsage
	}
	if slices.Contains(paths, stdinPath) {
		if len(paths) > 1 {
			usageError(stderr, fs.Name(), "standard input (-) is formatted alone: its result goes to stdout")
			return exitUsage
		}
		if lang == langJSON {
			usageError(stderr, fs.Name(), "--lang json: fmt formats CUE and HCL specs")
			return exitUsage
		}
	}
	return withStdin("fmt", paths, lang, stdout, stderr, func(paths []string, stdout, stderr io.Writer) int {
		return formatFiles(fs.Name(), paths, check, showDiff, quiet, colored, stdout, stderr)
	})
}

// formatFiles formats the spec files of paths. A file read from standard input (the one
// path, in a folder of its own) is written to stdout, never back; every other file that
// changes is rewritten and listed, unless quiet, as gofmt -l and terraform fmt list them.
func formatFiles(command string, paths []string, check, showDiff, quiet, colored bool, stdout, stderr io.Writer) int {
	fromStdin := len(paths) == 1 && strings.HasPrefix(filepath.Base(filepath.Dir(paths[0])), "daemongen-stdin-")
	files, err := specFiles(paths)
	if err != nil {
		usageError(stderr, command, err.Error())
		return exitUsage
	}
	dir := workDir()
	var diags hcl.Diagnostics
	unformatted := false
	for _, name := range files {
		src, err := safefile.Read(name, gen.MaxFileSize)
		if err != nil {
			fmt.Fprintf(stderr, "daemongen fmt: %v\n", err)
			return exitInvalid
		}
		out, ds := gen.Format(name, src)
		if ds.HasErrors() {
			diags = append(diags, ds...)
			continue
		}
		if fromStdin && !check && !showDiff {
			stdout.Write(out)
		}
		if bytes.Equal(out, src) {
			continue
		}
		unformatted = true
		shown := filepath.ToSlash(gen.RelativeName(dir, name))
		if showDiff {
			stdout.Write(diff.Diff(shown, src, shown, out))
		}
		switch {
		case check:
			if !showDiff {
				fmt.Fprintln(stdout, shown)
			}
		case fromStdin:
		default:
			if err := writeSpecs(filepath.Dir(name), map[string][]byte{filepath.Base(name): out}); err != nil {
				fmt.Fprintf(stderr, "daemongen fmt: %v\n", err)
				return exitInvalid
			}
			if !quiet && !showDiff {
				fmt.Fprintln(stdout, shown)
			}
		}
	}
	if len(diags) > 0 {
		reporter{gen.FormatText, dir, stdout, stderr, colored}.report(gen.Normalize(diags))
		return exitInvalid
	}
	if check && unformatted {
		return exitInvalid
	}
	return exitOK
}

// specFiles returns the .cue and .hcl files that paths name: files as given, folders'
// files (not their subfolders'), sorted.
func specFiles(paths []string) ([]string, error) {
	var files []string
	isSpec := func(name string) bool { l := lang.Of(name); return l == lang.CUE || l == lang.HCL }
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: no such file or directory", p)
		}
		if !info.IsDir() {
			if !isSpec(p) {
				return nil, fmt.Errorf("%s: not a .cue or .hcl file", p)
			}
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && isSpec(e.Name()) {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}
