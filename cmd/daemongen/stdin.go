package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue/parser"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/daemongen/daemongen/gen"
	"github.com/daemongen/daemongen/internal/lang"
)

// stdinPath is the path that names standard input on a command line, as cue and gofmt
// take it; stdinName is how messages name it.
const (
	stdinPath = "-"
	stdinName = "<stdin>"
)

// Input languages, for --lang, by the names internal/lang gives them.
var (
	langCUE  = lang.CUE.String()
	langHCL  = lang.HCL.String()
	langJSON = lang.JSON.String()
	langs    = lang.Names()
)

// stdinReader is what - reads: the process's standard input.
var stdinReader io.Reader = os.Stdin

// stdinFile holds standard input in a file of its language's extension, in a folder of its
// own, so that the commands that read paths read it like any file; rename turns the file's
// path back into <stdin> in what they print.
type stdinFile struct {
	dir, path string
}

// readStdin reads standard input, at most gen.MaxFileSize bytes, in language or,
// when language is "", the one its text is written in (see [sniffLang]).
func readStdin(language string) (*stdinFile, error) {
	src, err := io.ReadAll(io.LimitReader(stdinReader, gen.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %v", err)
	}
	if len(src) > gen.MaxFileSize {
		return nil, fmt.Errorf("%s: more than %d bytes; specs and JSON files may be at most %d (%d MiB)", stdinName, gen.MaxFileSize, gen.MaxFileSize, gen.MaxFileSize>>20)
	}
	if language == "" {
		language = sniffLang(src)
	}
	dir, err := os.MkdirTemp("", "daemongen-stdin-")
	if err != nil {
		return nil, err
	}
	s := &stdinFile{dir: dir, path: filepath.Join(dir, "stdin"+languageExt(language))}
	if err := os.WriteFile(s.path, src, 0o600); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// sniffLang tells the language of src: JSON when it is a JSON object, CUE when CUE parses
// it, HCL when HCL does, and CUE otherwise (whose parser then says what is wrong).
func sniffLang(src []byte) string {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")))
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed):
		return langJSON
	case parses(func() error { _, err := parser.ParseFile("stdin.cue", src); return err }):
		return langCUE
	case parses(func() error {
		if _, diags := hclsyntax.ParseConfig(src, "stdin.hcl", hcl.InitialPos); diags.HasErrors() {
			return diags
		}
		return nil
	}):
		return langHCL
	}
	return langCUE
}

func parses(parse func() error) bool { return parse() == nil }

// languageExt is the extension of files of the language called name.
func languageExt(name string) string {
	l, _ := lang.Named(name)
	return l.Ext()
}

func (s *stdinFile) close() { os.RemoveAll(s.dir) }

// rename replaces the file's path, as given and as printed relative to the working folder,
// by <stdin>.
func (s *stdinFile) rename(b []byte) []byte {
	forms := []string{s.path, filepath.ToSlash(s.path), gen.RelativeName(workDir(), s.path), filepath.ToSlash(gen.RelativeName(workDir(), s.path))}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range slices.Compact(forms) {
		b = bytes.ReplaceAll(b, []byte(f), []byte(stdinName))
	}
	return b
}

// withStdin runs a command whose paths may name standard input as -: at most one, read
// into a file (in --lang, or the language its text is in), whose path run sees instead,
// and which everything printed names <stdin>.
func withStdin(command string, paths []string, language string, stdout, stderr io.Writer, run func(paths []string, stdout, stderr io.Writer) int) int {
	n := 0
	for _, p := range paths {
		if p == stdinPath {
			n++
		}
	}
	switch {
	case language != "" && !slices.Contains(langs, language):
		usageError(stderr, "daemongen "+command, fmt.Sprintf("--lang %q: want %s", language, strings.Join(langs, ", ")))
		return exitUsage
	case language != "" && n == 0:
		usageError(stderr, "daemongen "+command, "--lang says the language of standard input, and no path is -")
		return exitUsage
	case n > 1:
		usageError(stderr, "daemongen "+command, "standard input (-) can be read once")
		return exitUsage
	case n == 0:
		return run(paths, stdout, stderr)
	}
	in, err := readStdin(language)
	if err != nil {
		fmt.Fprintf(stderr, "daemongen %s: %v\n", command, err)
		return exitInvalid
	}
	defer in.close()
	paths = slices.Clone(paths)
	paths[slices.Index(paths, stdinPath)] = in.path
	var out, errs bytes.Buffer
	code := run(paths, &out, &errs)
	stdout.Write(in.rename(out.Bytes()))
	stderr.Write(in.rename(errs.Bytes()))
	return code
}
