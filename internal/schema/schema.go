// Package schema compiles the embedded CUE schema (package cue) and reads what the other
// stages need from it: its index (field order, enums, required and unsupported fields), the
// lean form of #Fields, the exports as one CUE file and as JSON Schema, and the message for
// a field the schema lacks. The schema is parsed once per process and built into a value
// once per evaluation context.
package schema

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"

	schemafs "github.com/daemongen/daemongen/cue"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// Source names the API definition the schema was made from: the AWS SDK for Go v2
// module whose RegisterDaemonTaskDefinitionInput it encodes, at the version of go.mod (a
// test keeps the two equal, and the drift test compares the schema with that module).
const Source = "github.com/aws/aws-sdk-go-v2/service/ecs v1.105.1"

// DisplayDir is the directory the embedded schema's positions name: a stable
// pseudo path, the same on every machine.
const DisplayDir = "daemongen/cue"

// schemaInstance is the embedded schema, parsed once. Building it into a value is per
// context (see the evaluator of internal/check).
var schemaInstance = sync.OnceValue(func() *build.Instance {
	insts := load.Instances([]string{"."}, &load.Config{
		FS:         schemafs.FS,
		FromFSPath: func(p string) string { return DisplayDir + "/" + p },
		Package:    "daemongen",
	})
	if len(insts) != 1 || insts[0].Err != nil {
		panic(fmt.Sprintf("gen: loading the embedded schema: %v", insts[0].Err))
	}
	return insts[0]
})

// Compile builds the schema in ctx and returns it with its #Fields and #Rules.
func Compile(ctx *cue.Context) (root, fields, rules cue.Value) {
	root = ctx.BuildInstance(schemaInstance())
	if err := root.Err(); err != nil {
		panic("gen: the embedded schema does not build: " + errors.Details(err, nil))
	}
	return root, root.LookupPath(cue.ParsePath("#Fields")), root.LookupPath(cue.ParsePath("#Rules"))
}

// Struct describes one struct of the schema, reached by an abstract path whose list
// indexes are "*".
type Struct struct {
	// order lists the fields in the order the schema declares them: the output's key order.
	Order []string
	// fields maps each field to what the schema says of it.
	Fields map[string]*Field
	// isMap is set for structs whose keys are free (log options): sorted in the output.
	IsMap bool
}

// Field is one field of a schema struct.
type Field struct {
	Required bool
	// unsupported is the message of a field that ordinary task definitions have and
	// daemon task definitions lack.
	Unsupported string
	// enum lists the allowed values of a string enum field, for suggestions.
	Enum []string
	// elemEnum lists the allowed values of the elements of a list of enums.
	ElemEnum []string
}

// Shared is the schema compiled once per process, for what only reads it: the
// index, the warning ids and the field descriptions. Checking daemons uses evaluators of
// their own (see the evaluator of internal/check), whose contexts are replaced as they grow.
var Shared = sync.OnceValue(func() cue.Value {
	root, _, _ := Compile(cuecontext.New())
	return root
})

// Index maps abstract paths ("containerDefinitions.*.healthCheck") to the schema's
// structs. It is built once per process from #Fields.
var Index = sync.OnceValue(func() map[string]*Struct {
	fields := Shared().LookupPath(cue.ParsePath("#Fields"))
	idx := map[string]*Struct{}
	indexStruct(idx, "", fields)
	return idx
})

func indexStruct(idx map[string]*Struct, path string, v cue.Value) {
	sn := &Struct{Fields: map[string]*Field{}}
	idx[path] = sn
	if p := v.LookupPath(cue.MakePath(cue.AnyString)); p.Exists() {
		sn.IsMap = true
	}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		panic(err)
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		fv := it.Value()
		f := &Field{Required: it.FieldType()&cue.RequiredConstraint != 0}
		sn.Fields[name] = f
		if err := fv.Err(); err != nil && fv.IncompleteKind() == cue.BottomKind {
			// A field whose value is only an error() is one that daemons do not support.
			f.Unsupported = ErrorMessage(err)
			continue
		}
		if fv.IncompleteKind() == cue.BottomKind {
			panic(fmt.Sprintf("gen: schema field %s.%s has no kind", path, name))
		}
		sn.Order = append(sn.Order, name)
		child := lang.JoinAbstract(path, name)
		// Kinds are tested bit by bit: a struct with conditional rules, or a value with an
		// error() alternative, is not of one kind alone.
		switch k := fv.IncompleteKind(); {
		case k&cue.StructKind != 0:
			indexStruct(idx, child, fv)
		case k&cue.ListKind != 0:
			elem := fv.LookupPath(cue.MakePath(cue.AnyIndex))
			if elem.IncompleteKind()&cue.StructKind != 0 {
				indexStruct(idx, child+".*", elem)
			} else {
				f.ElemEnum = EnumValues(elem)
			}
		case k&cue.StringKind != 0:
			f.Enum = EnumValues(fv)
		}
	}
}

// EnumValues returns the string literals of a disjunction such as "a" | "b" | error("..").
func EnumValues(v cue.Value) []string {
	op, args := v.Expr()
	switch {
	case op == cue.OrOp:
		var out []string
		for _, a := range args {
			if s, err := a.String(); err == nil {
				out = append(out, s)
			} else {
				out = append(out, EnumValues(a)...)
			}
		}
		return out
	case op == cue.SelectorOp || op == cue.NoOp:
		// A reference, such as [...#capability]: look at what it refers to.
		if e := v.Eval(); e.Pos() != v.Pos() {
			if eop, _ := e.Expr(); eop == cue.OrOp {
				return EnumValues(e)
			}
		}
	}
	return nil
}

// AbstractPath turns a concrete path into the schema index's form.
func AbstractPath(path []any) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		switch s := p.(type) {
		case string:
			b.WriteString(s)
		case int:
			b.WriteByte('*')
		}
	}
	return b.String()
}

// ErrorMessage returns the message of a CUE error without its path.
func ErrorMessage(err error) string {
	errs := errors.Errors(err)
	if len(errs) == 0 {
		return err.Error()
	}
	format, args := errs[0].Msg()
	return fmt.Sprintf(format, args...)
}

// UnknownFieldMessage returns what to say of a field the schema does not have at the
// abstract path apath, and the field it suggests instead. A container field at the daemon
// level, or a daemon field in a container, is told where it belongs. concise is set for
// the daemons of specs, where the spec's own forms may be suggested. The spec check
// (checkLayer, in internal/spec) and the shape check of each daemon say the same of the same mistake, so
// that it is reported once.
func UnknownFieldMessage(apath string, f *node.Field, concise bool) (msg, suggested string) {
	idx := Index()
	w := lang.WordsAt(f.Value.Pos)
	_, isContainerField := idx[lang.ContainerLevel].Fields[f.Name]
	_, isDaemonField := idx[lang.DaemonLevel].Fields[f.Name]
	switch {
	case apath == lang.DaemonLevel && isContainerField && concise:
		return fmt.Sprintf("%s is a container field: set it in a container, %s, or for every container in %s", w.Name(f.Name), w.InContainer(f.Name), w.EveryContainer(f.Name)), ""
	case apath == lang.DaemonLevel && isContainerField:
		return fmt.Sprintf("%s is a container field: set it in each element of containerDefinitions", f.Name), ""
	case apath == lang.ContainerLevel && (isDaemonField || concise && slices.Contains(lang.ConciseDaemonFields, f.Name)):
		return fmt.Sprintf("%s is a daemon field: set it at the daemon level, not in a container", w.Name(f.Name)), ""
	}
	candidates := idx[apath].Order
	if concise && apath == lang.DaemonLevel {
		candidates = DaemonLayerFields()
	}
	suggested = diag.Suggest(f.Name, candidates)
	switch {
	case suggested != "":
		return fmt.Sprintf("unknown field; did you mean %q?", w.Name(suggested)), suggested
	case concise && apath == lang.ContainerLevel && f.Value.Kind == node.Struct:
		return fmt.Sprintf("unknown container field; to declare a container named %s write %s", w.Name(f.Name), w.Container(w.Name(f.Name))), ""
	}
	return "unknown field", ""
}

// DaemonLayerFields are the names a layer of a daemon may use: the API's top-level fields
// and the spec's own.
var DaemonLayerFields = sync.OnceValue(func() []string {
	return append(slices.Clone(Index()[lang.DaemonLevel].Order), lang.ConciseDaemonFields...)
})
