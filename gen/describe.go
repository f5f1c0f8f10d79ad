package gen

import (
	"fmt"
	"slices"
	"strings"

	"cuelang.org/go/cue"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/schema"
	"github.com/daemongen/daemongen/internal/spec"
)

// SchemaSource names the SDK release whose API the embedded schema describes.
const SchemaSource = schema.Source

// SchemaCUE returns the embedded schema as one self-contained CUE file: the schema's files
// merged under one package clause, comments kept. `cue vet -c -d '#DaemonTaskDefinition'
// schema.cue x.json` validates a register file with it.
func SchemaCUE() ([]byte, error) { return schema.CUE() }

// SchemaJSONSchema returns the field rules of the schema (#Fields) as JSON Schema (draft
// 2020-12), with the doc comments as descriptions, for editors and other validators. The
// rules between fields (#Rules) have no JSON Schema form and are left out.
func SchemaJSONSchema() ([]byte, error) { return schema.JSONSchema() }

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
	v := schema.Shared().LookupPath(cue.ParsePath("#Fields"))
	info := FieldInfo{Path: path}
	parts := strings.Split(path, ".")
	if len(parts) == 1 {
		if f := lang.SpecOnlyFieldNamed(lang.ConciseName(parts[0])); f.Name != "" {
			info.Path, info.Type, info.Doc = f.Name, f.Type, f.Doc
			if info.Path == lang.FieldIgnoreWarnings {
				info.Doc += strings.Join(spec.WarningIDs(), ", ") + "."
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
			if s := diag.Suggest(name, known); s != "" {
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
		info.Unsupported = schema.ErrorMessage(v.Err())
		return info, nil
	}
	info.Type = kindName(v)
	info.Enum = schema.EnumValues(v)
	op, args := v.Expr()
	if op == cue.OrOp {
		for _, a := range args {
			if err := a.Err(); err != nil && a.IncompleteKind() == cue.BottomKind {
				info.Allowed = schema.ErrorMessage(err)
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
