package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/daemongen/daemongen/gen"
)

// Schema formats.
const (
	schemaCUE        = "cue"
	schemaJSONSchema = "jsonschema"
)

func runSchema(args []string, stdout, stderr io.Writer) int {
	var format string
	fs := newFlagSet("schema", stdout, stderr)
	fs.StringVar(&format, flagFormat, schemaCUE, "cue (a self-contained CUE file) or jsonschema (JSON Schema 2020-12)")
	if _, code, ok := parse(fs, args, stderr, 0, ""); !ok {
		return code
	}
	if fs.NArg() > 0 {
		usageError(stderr, fs.Name(), "takes no arguments")
		return exitUsage
	}
	var (
		out []byte
		err error
	)
	switch format {
	case schemaCUE:
		out, err = gen.SchemaCUE()
	case schemaJSONSchema:
		out, err = gen.SchemaJSONSchema()
	default:
		usageError(stderr, fs.Name(), fmt.Sprintf("--format %q: want cue or jsonschema", format))
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "daemongen schema: %v\n", err)
		return exitInvalid
	}
	stdout.Write(out)
	return exitOK
}

func runExplain(args []string, stdout, stderr io.Writer) int {
	var (
		sf     specFlags
		family string
	)
	fs := newFlagSet("explain", stdout, stderr)
	fs.StringVar(&family, "family", "", "show the value of this daemon, and the layers that set it")
	sf.Bind(fs)
	rest, code, ok := parse(fs, args, stderr, 1, "FIELD.PATH")
	if !ok {
		return code
	}
	path := rest[0]
	if family == "" {
		if len(rest) > 1 {
			usageError(stderr, fs.Name(), "PATHs go with --family")
			return exitUsage
		}
		info, err := gen.DescribeField(path)
		if err != nil {
			fmt.Fprintf(stderr, "daemongen explain: %v\n", err)
			return exitInvalid
		}
		writeFieldInfo(stdout, info)
		return exitOK
	}
	if len(rest) < 2 {
		usageError(stderr, fs.Name(), "--family needs the spec's PATHs after FIELD.PATH")
		return exitUsage
	}
	cfg, err := sf.config(rest[1:])
	if err != nil {
		usageError(stderr, fs.Name(), err.Error())
		return exitUsage
	}
	var results []gen.TraceResult
	if code, ok := bounded(&cfg, sf, stderr, func() { results, err = gen.Trace(cfg, family, sf.env, path) }); !ok {
		return code
	}
	var usageErr *gen.UsageError
	switch {
	case errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "daemongen explain: %s\n", usageErr.Msg)
		return exitInvalid
	case err != nil:
		fmt.Fprintf(stderr, "daemongen explain: %v\n", err)
		return exitInvalid
	}
	for _, r := range results {
		where := family
		if r.Env != "" {
			where += " in " + r.Env
		}
		if r.Final == nil {
			fmt.Fprintf(stdout, "%s: %s is not set\n", where, path)
		} else {
			fmt.Fprintf(stdout, "%s: %s = %s\n", where, path, r.Final.Compact())
		}
		for _, e := range r.Entries {
			fmt.Fprintf(stdout, "  %-48s %s  %s\n", e.Layer, gen.FormatPos(e.Value, cfg.Dir), e.Value.Compact())
		}
		for _, p := range r.Policies {
			fmt.Fprintf(stdout, "  policy rule %s\n", p)
		}
	}
	return exitOK
}

func writeFieldInfo(w io.Writer, info gen.FieldInfo) {
	fmt.Fprintf(w, "%s\n", info.Path)
	if info.Unsupported != "" {
		fmt.Fprintf(w, "  not supported: %s\n", info.Unsupported)
		return
	}
	req := "optional"
	if info.Required {
		req = "required"
	}
	fmt.Fprintf(w, "  type:     %s, %s\n", info.Type, req)
	if len(info.Enum) > 0 {
		fmt.Fprintf(w, "  values:   %s\n", strings.Join(info.Enum, ", "))
	}
	if info.Allowed != "" {
		fmt.Fprintf(w, "  allowed:  %s\n", info.Allowed)
	}
	if len(info.Fields) > 0 {
		fmt.Fprintf(w, "  fields:   %s\n", strings.Join(info.Fields, ", "))
	}
	if info.Doc != "" {
		fmt.Fprintf(w, "\n  %s\n", strings.ReplaceAll(info.Doc, "\n", "\n  "))
	}
}

func runImport(args []string, stdout, stderr io.Writer) int {
	var (
		cfg gen.ImportConfig
		out string
	)
	fs := newFlagSet("import", stdout, stderr)
	fs.StringVar(&cfg.To, "to", "cue", "write the spec in cue or hcl")
	fs.StringVarP(&out, flagOut, "o", "", "write one spec file per family into `DIR` (default: all on stdout)")
	fs.BoolVar(&cfg.Factor, "factor", false, "write several environments' files of one family as one daemon with per-environment overrides")
	var lang string
	bindLang(fs, &lang)
	files, code, ok := parse(fs, args, stderr, 1, "FILE.json")
	if !ok {
		return code
	}
	if cfg.To != "cue" && cfg.To != "hcl" {
		usageError(stderr, fs.Name(), fmt.Sprintf("--to %q: want cue or hcl", cfg.To))
		return exitUsage
	}
	if lang != "" && lang != langJSON {
		usageError(stderr, fs.Name(), fmt.Sprintf("--lang %q: import reads JSON (register input or describe output)", lang))
		return exitUsage
	}
	if slices.Contains(files, stdinPath) {
		lang = langJSON
	}
	return withStdin("import", files, lang, stdout, stderr, func(files []string, stdout, stderr io.Writer) int {
		cfg.Files = files
		return importFiles(cfg, out, stdout, stderr)
	})
}

// importFiles is import of cfg, writing into out, or on stdout when out is "".
func importFiles(cfg gen.ImportConfig, out string, stdout, stderr io.Writer) int {
	res, err := gen.Import(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "daemongen import: %v\n", err)
		return exitInvalid
	}
	for _, note := range res.Notes {
		fmt.Fprintf(stderr, "daemongen import: %s\n", note)
	}
	if out == "" {
		stdout.Write(res.Combined)
		return exitOK
	}
	specs := map[string][]byte{}
	for family, text := range res.Specs {
		specs[family+"."+cfg.To] = text
	}
	if err := writeSpecs(out, specs); err != nil {
		fmt.Fprintf(stderr, "daemongen import: %v\n", err)
		return exitInvalid
	}
	return exitOK
}
