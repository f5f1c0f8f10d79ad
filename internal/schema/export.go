package schema

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/encoding/jsonschema"

	schemafs "github.com/daemongen/daemongen/cue"
)

// CUE returns the embedded schema as one self-contained CUE file: the schema's files
// merged under one package clause, comments kept. `cue vet -c -d '#DaemonTaskDefinition'
// schema.cue x.json` validates a register file with it.
func CUE() ([]byte, error) {
	merged, err := Merged()
	if err != nil {
		return nil, err
	}
	embedFieldChecks(merged)
	return format.Node(merged)
}

// Merged returns the embedded schema's files as one file: one package clause, the
// imports of all, then every declaration.
func Merged() (*ast.File, error) {
	names, err := fs.Glob(schemafs.FS, "*.cue")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	merged := &ast.File{}
	imports := map[string]bool{}
	var decls []ast.Decl
	for i, name := range names {
		src, err := fs.ReadFile(schemafs.FS, name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.Package:
				if i == 0 {
					merged.Decls = append(merged.Decls, d)
				}
			case *ast.ImportDecl:
				for _, spec := range d.Specs {
					imports[spec.Path.Value] = true
				}
			default:
				decls = append(decls, d)
			}
		}
		if i == 0 {
			// The first file's leading comment documents the package.
			ast.SetComments(merged, ast.Comments(f))
		}
	}
	paths := make([]string, 0, len(imports))
	for p := range imports {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	imp := &ast.ImportDecl{}
	for _, p := range paths {
		imp.Specs = append(imp.Specs, &ast.ImportSpec{Path: &ast.BasicLit{Value: p}})
	}
	merged.Decls = append(merged.Decls, imp)
	merged.Decls = append(merged.Decls, decls...)
	return merged, nil
}

// embedFieldChecks rewrites each check of the form _at_NAME: error("msg"), which daemongen
// reads as an error of the field NAME, into an error of its struct that names the field
// (error("NAME: msg")), so that plain cue vet reports no hidden field of the schema.
func embedFieldChecks(f *ast.File) {
	ast.Walk(f, func(n ast.Node) bool {
		var decls *[]ast.Decl
		switch n := n.(type) {
		case *ast.StructLit:
			decls = &n.Elts
		case *ast.Comprehension:
			if sl, ok := n.Value.(*ast.StructLit); ok {
				decls = &sl.Elts
			}
		}
		if decls == nil {
			return true
		}
		for i, d := range *decls {
			field, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, _, _ := ast.LabelName(field.Label)
			call, isCall := field.Value.(*ast.CallExpr)
			if !strings.HasPrefix(name, "_at_") || !isCall || len(call.Args) != 1 {
				continue
			}
			prefix := strings.TrimPrefix(name, "_at_") + ": "
			switch msg := call.Args[0].(type) {
			case *ast.BasicLit:
				msg.Value = `"` + prefix + strings.TrimPrefix(msg.Value, `"`)
			case *ast.Interpolation:
				if first, ok := msg.Elts[0].(*ast.BasicLit); ok {
					first.Value = `"` + prefix + strings.TrimPrefix(first.Value, `"`)
				}
			}
			(*decls)[i] = &ast.EmbedDecl{Expr: call}
		}
		return true
	}, nil)
}

// JSONSchema returns the field rules of the schema (#Fields) as JSON Schema (draft
// 2020-12), with the doc comments as descriptions, for editors and other validators. The
// rules between fields (#Rules) have no JSON Schema form and are left out.
func JSONSchema() ([]byte, error) {
	ctx := cuecontext.New()
	_, fields, _ := Compile(ctx)
	x, err := jsonschema.Generate(fields, &jsonschema.GenerateConfig{})
	if err != nil {
		return nil, err
	}
	v := ctx.BuildExpr(x)
	var doc any
	b, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	portablePatterns(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// unicodeTagClass is the schema's class of the characters of a tag (RE2's \p classes,
// which ECMA-262 regexes understand only with the u flag and Python's re not at all), and
// portableTagClass the same for JSON Schema validators: the ASCII ones, or any non-ASCII
// character. It is written so that RE2, ECMA-262 and Python all read it alike.
const (
	unicodeTagClass  = `[\p{L}\p{Z}\p{N}_.:/=+@-]`
	portableTagClass = `(?:[A-Za-z0-9 _.:/=+@-]|[^\x00-\x7F])`
)

// portablePatterns rewrites the patterns of a JSON Schema document so that validators in
// any language compile them (JSON Schema patterns are ECMA-262 regexes), and writes a
// free-form map (CUE's [string]: T, exported as the pattern "") as additionalProperties,
// which every validator reads alike.
func portablePatterns(doc any) {
	switch d := doc.(type) {
	case map[string]any:
		if pp, ok := d["patternProperties"].(map[string]any); ok && len(pp) == 1 && pp[""] != nil {
			d["additionalProperties"] = pp[""]
			delete(d, "patternProperties")
		}
		for k, v := range d {
			if s, ok := v.(string); ok && k == "pattern" {
				d[k] = strings.ReplaceAll(s, unicodeTagClass, portableTagClass)
				continue
			}
			portablePatterns(v)
		}
	case []any:
		for _, v := range d {
			portablePatterns(v)
		}
	}
}
