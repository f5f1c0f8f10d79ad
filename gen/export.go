package gen

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/encoding/jsonschema"

	schemafs "github.com/daemongen/daemongen/cue"
	"github.com/daemongen/daemongen/internal/lang"
)

// SchemaCUE returns the embedded schema as one self-contained CUE file: the schema's files
// merged under one package clause, comments kept. `cue vet -c -d '#DaemonTaskDefinition'
// schema.cue x.json` validates a register file with it.
func SchemaCUE() ([]byte, error) {
	merged, err := mergedSchema()
	if err != nil {
		return nil, err
	}
	embedFieldChecks(merged)
	return format.Node(merged)
}

// mergedSchema returns the embedded schema's files as one file: one package clause, the
// imports of all, then every declaration.
func mergedSchema() (*ast.File, error) {
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

// SchemaJSONSchema returns the field rules of the schema (#Fields) as JSON Schema (draft
// 2020-12), with the doc comments as descriptions, for editors and other validators. The
// rules between fields (#Rules) have no JSON Schema form and are left out.
func SchemaJSONSchema() ([]byte, error) {
	ctx := cuecontext.New()
	_, fields, _ := compileSchema(ctx)
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

// FieldInfo describes one field of the API form.
type FieldInfo struct {
	// Path is the field's path, list levels left out: containerDefinitions.healthCheck.timeout.
	Path     string
	Type     string
	Required bool
	// Allowed says what values the schema allows, in the words of its error messages.
	Allowed string
	// Enum lists the allowed values of an enum.
	Enum []string
	// Doc is the field's doc comment: what it is, its unit, range and default.
	Doc string
	// Fields lists the fields of a struct.
	Fields []string
	// Unsupported is set for a field that ordinary task definitions have and daemons lack.
	Unsupported string
}

// apiName is the API's name of a path element written in HCL's: containerDefinitions for
// container, firelensConfiguration for firelens_configuration.
func apiName(name string) string {
	if c := lang.ConciseName(name); c == "containers" {
		return "containerDefinitions"
	} else {
		return c
	}
}

// DescribeField describes the field at path, such as containerDefinitions.healthCheck.timeout.
// Paths may use HCL's names (firelens_configuration, container): each is taken as its API
// name. The fields of the spec language that the API lacks (group, enabled,
// ignoreWarnings) are described too.
func DescribeField(path string) (FieldInfo, error) {
	v := processSchema().LookupPath(cue.ParsePath("#Fields"))
	info := FieldInfo{Path: path}
	parts := strings.Split(path, ".")
	if len(parts) == 1 {
		if f := lang.SpecOnlyFieldNamed(lang.ConciseName(parts[0])); f.Name != "" {
			info.Path, info.Type, info.Doc = f.Name, f.Type, f.Doc
			if info.Path == lang.FieldIgnoreWarnings {
				info.Doc += strings.Join(WarningIDs(), ", ") + "."
			}
			return info, nil
		}
	}
	for i, name := range parts {
		if api := apiName(name); api != name && v.LookupPath(cue.MakePath(cue.Str(api).Optional())).Exists() || api != name && v.LookupPath(cue.MakePath(cue.AnyIndex, cue.Str(api).Optional())).Exists() {
			parts[i], name = api, api // an HCL name
		}
		if l := v.LookupPath(cue.MakePath(cue.AnyIndex)); v.IncompleteKind()&cue.ListKind != 0 && l.Exists() {
			v = l
		}
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return info, fmt.Errorf("%s is not a struct", strings.Join(parts[:i], "."))
		}
		var found bool
		var known []string
		for it.Next() {
			sel := it.Selector().Unquoted()
			known = append(known, sel)
			if sel == name {
				found = true
				v = it.Value()
				info.Required = it.FieldType()&cue.RequiredConstraint != 0
			}
		}
		if !found {
			msg := fmt.Sprintf("the schema has no field %s", strings.Join(parts[:i+1], "."))
			if i == 0 && slices.Contains(lang.SpecFields, name) {
				msg += fmt.Sprintf("; %s is a section of a spec, not a field of the API", name)
			}
			if s := suggest(name, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", strings.Join(append(slices.Clone(parts[:i]), s), "."))
			}
			return info, fmt.Errorf("%s", msg)
		}
	}
	info.Path = strings.Join(parts, ".") // in the API's names
	for _, d := range v.Doc() {
		info.Doc = strings.TrimSpace(d.Text())
	}
	if v.IncompleteKind() == cue.BottomKind {
		info.Unsupported = errorMessage(v.Err())
		return info, nil
	}
	info.Type = kindName(v)
	info.Enum = enumValues(v)
	op, args := v.Expr()
	if op == cue.OrOp {
		for _, a := range args {
			if err := a.Err(); err != nil && a.IncompleteKind() == cue.BottomKind {
				info.Allowed = errorMessage(err)
			}
		}
	}
	if v.IncompleteKind()&cue.ListKind != 0 {
		if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() && e.IncompleteKind()&cue.StructKind != 0 {
			v = e
		}
	}
	if v.IncompleteKind()&cue.StructKind != 0 {
		if it, err := v.Fields(cue.Optional(true)); err == nil {
			for it.Next() {
				if it.Value().IncompleteKind() != cue.BottomKind {
					info.Fields = append(info.Fields, it.Selector().Unquoted())
				}
			}
		}
	}
	return info, nil
}

// kindName names a schema value's type for people.
func kindName(v cue.Value) string {
	k := v.IncompleteKind()
	switch {
	case k&cue.StructKind != 0:
		return "struct"
	case k&cue.ListKind != 0:
		e := v.LookupPath(cue.MakePath(cue.AnyIndex))
		if e.Exists() {
			return "list of " + kindName(e)
		}
		return "list"
	case k&cue.StringKind != 0:
		return "string"
	case k&cue.IntKind != 0:
		return "integer"
	case k&cue.BoolKind != 0:
		return "boolean"
	}
	return k.String()
}
