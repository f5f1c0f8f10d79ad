package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
)

// envTag is the CUE tag that receives the environment's name: a spec that declares
// `env: string @tag(env)` is evaluated once per environment with it set.
const envTag = "env"

// source is one input: a CUE package, a JSON file, or an HCL file set.
type source struct {
	// eval returns the source's root value for an environment ("" when the source is
	// evaluated once for all environments).
	eval func(env string) (*Node, hcl.Diagnostics)
	// perEnv is set when eval depends on the environment.
	perEnv bool
}

// discover turns the command line's paths into sources: each directory's .cue files form one
// package, the .cue files named on the command line form another, and every .json file is a
// daemon task definition of its own.
func discover(dir string, paths []string, in hclspec.Inputs) ([]*source, hcl.Diagnostics) {
	var (
		sources  []*source
		diags    hcl.Diagnostics
		cueFiles []string
		hclFiles []string
	)
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, p)
		}
		info, err := os.Stat(abs)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: no such file or directory", p)})
			continue
		}
		if info.IsDir() {
			entries, err := os.ReadDir(abs)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: err.Error()})
				continue
			}
			hasCUE := false
			before := len(sources)
			var dirHCL []string
			for _, e := range entries {
				switch name := e.Name(); {
				case e.IsDir():
				case strings.HasSuffix(name, ".cue"):
					hasCUE = true
				case strings.HasSuffix(name, varFileSuffix):
					// Variable files are named with --var-file, not read as specs.
				case strings.HasSuffix(name, ".hcl"):
					dirHCL = append(dirHCL, filepath.Join(abs, name))
				case strings.HasSuffix(name, ".json"):
					sources = append(sources, jsonSource(filepath.Join(abs, name)))
				}
			}
			if hasCUE {
				sources = append(sources, cueSource(dir, []string{abs}))
			}
			if len(dirHCL) > 0 {
				sources = append(sources, hclSource(abs, dirHCL, in))
			}
			if len(sources) == before {
				msg := fmt.Sprintf("%s: no .cue, .hcl or .json files", p)
				var subdirs []string
				for _, e := range entries {
					if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
						subdirs = append(subdirs, filepath.ToSlash(filepath.Join(p, e.Name())))
					}
				}
				if len(subdirs) > 0 {
					msg += "; the specs may be in " + strings.Join(subdirs, ", ")
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: msg})
			}
			continue
		}
		switch filepath.Ext(p) {
		case ".cue":
			cueFiles = append(cueFiles, abs)
		case ".json":
			sources = append(sources, jsonSource(abs))
		case ".hcl":
			hclFiles = append(hclFiles, abs)
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: not a .cue, .hcl or .json file or a directory", p)})
		}
	}
	if len(cueFiles) > 0 {
		sources = append(sources, cueSource(dir, cueFiles))
	}
	if len(hclFiles) > 0 {
		sources = append(sources, hclSource(dir, hclFiles, in))
	}
	return sources, diags
}

// loadArg makes an absolute path into the form load.Instances takes: relative to dir and
// starting with ./ or ../.
func loadArg(dir, abs string) string {
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return abs
	}
	rel = filepath.ToSlash(rel)
	if !strings.HasPrefix(rel, "../") && rel != ".." {
		rel = "./" + rel
	}
	return rel
}

// cueSource loads a CUE package from a directory or from a list of files.
func cueSource(dir string, abs []string) *source {
	args := make([]string, len(abs))
	for i, a := range abs {
		args[i] = loadArg(dir, a)
	}
	loadWith := func(tags []string) (*build.Instance, hcl.Diagnostics) {
		insts := load.Instances(args, &load.Config{Dir: dir, Tags: tags})
		if len(insts) != 1 {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: expected one CUE package, found %d", strings.Join(args, " "), len(insts))}}
		}
		if err := insts[0].Err; err != nil {
			return nil, errorDiagnostics(err)
		}
		return insts[0], nil
	}
	base, diags := loadWith(nil)
	if diags.HasErrors() {
		return &source{eval: func(string) (*Node, hcl.Diagnostics) { return nil, diags }}
	}
	s := &source{perEnv: usesTag(base, envTag)}
	s.eval = func(env string) (*Node, hcl.Diagnostics) {
		inst := base
		if env != "" && s.perEnv {
			var diags hcl.Diagnostics
			if inst, diags = loadWith([]string{envTag + "=" + env}); diags.HasErrors() {
				return nil, diags
			}
		}
		v := cuecontext.New().BuildInstance(inst)
		if err := v.Err(); err != nil {
			return nil, errorDiagnostics(err)
		}
		// Without an environment, `env` has no value and whatever depends on it is
		// incomplete: only the list of environments is read from such an evaluation.
		if env == "" && s.perEnv {
			return envNamesOnly(v)
		}
		return toNode(v, nil)
	}
	return s
}

// envNamesOnly returns the outline of a spec evaluated without its environment: its
// top-level fields, empty, and the names of the declared environments. Its values depend
// on env, so only the names are read; each environment's evaluation is checked in full.
func envNamesOnly(v cue.Value) (*Node, hcl.Diagnostics) {
	root := NewStruct(v.Pos())
	it, err := v.Fields()
	if err != nil {
		return nil, errorDiagnostics(err)
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		outline := NewStruct(it.Value().Pos())
		if name == "environments" {
			envs, err := it.Value().Fields()
			if err != nil {
				return nil, errorDiagnostics(err)
			}
			for envs.Next() {
				outline.Set(envs.Selector().Unquoted(), NewStruct(envs.Value().Pos()))
			}
		}
		root.Set(name, outline)
	}
	return root, nil
}

// usesTag reports whether any file of inst declares @tag(name).
func usesTag(inst *build.Instance, name string) bool {
	found := false
	for _, f := range inst.Files {
		ast.Walk(f, func(n ast.Node) bool {
			if a, ok := n.(*ast.Attribute); ok {
				key, body := a.Split()
				if key == "tag" && strings.TrimSpace(strings.SplitN(body, ",", 2)[0]) == name {
					found = true
				}
			}
			return !found
		}, nil)
	}
	return found
}

// varFileSuffix names HCL variable files, which a directory's specs do not include.
const varFileSuffix = ".vars.hcl"

// hclSource reads HCL files that together make one spec. specDir is where file() reads
// relative paths from.
func hclSource(specDir string, abs []string, in hclspec.Inputs) *source {
	sources := map[string][]byte{}
	var diags hcl.Diagnostics
	for _, f := range abs {
		b, err := os.ReadFile(f)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: err.Error()})
		}
		sources[f] = b
	}
	spec, ds := hclspec.Parse(abs, sources, specDir)
	diags = append(diags, ds...)
	if diags.HasErrors() {
		return &source{eval: func(string) (*Node, hcl.Diagnostics) { return nil, diags }}
	}
	envs := spec.Environments()
	s := &source{perEnv: len(envs) > 0}
	s.eval = func(env string) (*Node, hcl.Diagnostics) {
		if env == "" && s.perEnv {
			root := NewStruct(token.NoPos)
			list := NewStruct(token.NoPos)
			for _, e := range envs {
				list.Set(e, NewStruct(token.NoPos))
			}
			root.Set("environments", list)
			return root, nil
		}
		// An attribute whose expression fails is left out and reported; the rest is
		// still checked, so that every mistake shows at once.
		expr, diags := spec.CUE(env, in)
		if expr == nil {
			return nil, diags
		}
		v := cuecontext.New().BuildExpr(expr)
		if err := v.Err(); err != nil {
			return nil, append(diags, errorDiagnostics(err)...)
		}
		root, ds := toNode(v, nil)
		return root, append(diags, ds...)
	}
	return s
}

// jsonSource reads a JSON file: one daemon task definition in API form.
func jsonSource(abs string) *source {
	return &source{eval: func(string) (*Node, hcl.Diagnostics) {
		data, err := os.ReadFile(abs)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Detail: err.Error()}}
		}
		if d := jsonSyntaxDiag(abs, data); d != nil {
			return nil, hcl.Diagnostics{d}
		}
		expr, err := cuejson.Extract(abs, data)
		if err != nil {
			return nil, errorDiagnostics(err)
		}
		v := cuecontext.New().BuildExpr(expr)
		if err := v.Err(); err != nil {
			return nil, errorDiagnostics(err)
		}
		return toNode(v, nil)
	}}
}

// jsonSyntaxDiag reports the first syntax error of a JSON file at its line and column,
// saying what is wrong; nil when the file is well-formed.
func jsonSyntaxDiag(name string, data []byte) *hcl.Diagnostic {
	var v any
	err := json.Unmarshal(data, &v)
	syn, isSyntax := err.(*json.SyntaxError)
	if err == nil || !isSyntax {
		if err != nil && strings.Contains(err.Error(), "unexpected end of JSON input") {
			syn = &json.SyntaxError{Offset: int64(len(data))}
		} else {
			return nil
		}
	}
	before := data[:min(int(syn.Offset), len(data))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	if syn.Offset > 0 && col > 1 {
		col-- // Offset is just past the offending byte
	}
	start := hcl.Pos{Line: line, Column: col, Byte: len(before)}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Detail: "invalid JSON: " + err.Error(),
		Subject: &hcl.Range{Filename: name, Start: start, End: start}}
}

// toNode converts an evaluated CUE value into a Node tree. Values that are errors or not
// concrete are reported at their position and left out.
func toNode(v cue.Value, path []string) (*Node, hcl.Diagnostics) {
	if err := v.Err(); err != nil {
		return nil, errorDiagnostics(err)
	}
	v, _ = v.Default()
	pos := v.Pos()
	switch v.IncompleteKind() {
	case cue.StructKind:
		n := NewStruct(pos)
		it, err := v.Fields()
		if err != nil {
			return nil, errorDiagnostics(err)
		}
		var diags hcl.Diagnostics
		for it.Next() {
			name := it.Selector().Unquoted()
			child, ds := toNode(it.Value(), append(slices.Clip(path), name))
			diags = append(diags, ds...)
			if child != nil {
				n.Fields = append(n.Fields, &Field{Name: name, Value: child})
			}
		}
		return n, diags
	case cue.ListKind:
		n := &Node{Kind: List, Pos: pos, Elems: []*Node{}}
		it, err := v.List()
		if err != nil {
			return nil, errorDiagnostics(err)
		}
		var diags hcl.Diagnostics
		for i := 0; it.Next(); i++ {
			child, ds := toNode(it.Value(), append(slices.Clip(path), fmt.Sprint(i)))
			diags = append(diags, ds...)
			if child != nil {
				n.Elems = append(n.Elems, child)
			}
		}
		return n, diags
	}
	if !v.IsConcrete() {
		return nil, hcl.Diagnostics{newDiag(hcl.DiagError, pos, strings.Join(path, "."),
			fmt.Sprintf("has no value: it is only constrained to %v; give it a concrete value", v))}
	}
	switch v.Kind() {
	case cue.NullKind:
		return &Node{Kind: Null, Pos: pos}, nil
	case cue.BoolKind:
		b, _ := v.Bool()
		return &Node{Kind: Bool, Pos: pos, Bool: b}, nil
	case cue.IntKind, cue.FloatKind, cue.NumberKind:
		b, err := v.MarshalJSON()
		if err != nil {
			return nil, errorDiagnostics(err)
		}
		return &Node{Kind: Number, Pos: pos, Text: string(b)}, nil
	case cue.StringKind:
		s, _ := v.String()
		return NewString(s, pos), nil
	}
	return nil, hcl.Diagnostics{newDiag(hcl.DiagError, pos, strings.Join(path, "."),
		fmt.Sprintf("%v is not a JSON value", v.Kind()))}
}

// errorDiagnostics converts a CUE error of the user's own files: a syntax error, or two
// values that conflict. The first position is where it is reported; the others are named
// in the message, so that a conflict names both places.
func errorDiagnostics(err error) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, e := range errors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		var positions []token.Pos
		for _, p := range errors.Positions(e) {
			if !strings.HasPrefix(p.Filename(), schemaDisplayDir+"/") {
				positions = append(positions, p)
			}
		}
		var at token.Pos
		if len(positions) > 0 {
			at = positions[0]
			var also []string
			for _, p := range positions[1:] {
				pp := p.Position()
				also = append(also, fmt.Sprintf("%s:%d:%d", pp.Filename, pp.Line, pp.Column))
			}
			if len(also) > 0 {
				msg += "; see also " + strings.Join(also, ", ")
			}
		}
		diags = append(diags, newDiag(hcl.DiagError, at, strings.Join(errors.Path(e), "."), msg))
	}
	return diags
}
