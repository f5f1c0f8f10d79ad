package gen

import (
	"fmt"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"

	schemafs "github.com/daemongen/daemongen/cue"
)

// SchemaSource names the API definition the schema was made from: the AWS SDK for Go v2
// module whose RegisterDaemonTaskDefinitionInput it encodes, at the version of go.mod (a
// test keeps the two equal, and the drift test compares the schema with that module).
const SchemaSource = "github.com/aws/aws-sdk-go-v2/service/ecs v1.105.1"

// schemaDisplayDir is the directory the embedded schema's positions name: a stable
// pseudo path, the same on every machine.
const schemaDisplayDir = "daemongen/cue"

// schemaInstance is the embedded schema, parsed once. Building it into a value is per
// context (see [newEvaluator]).
var schemaInstance = sync.OnceValue(func() *build.Instance {
	insts := load.Instances([]string{"."}, &load.Config{
		FS:         schemafs.FS,
		FromFSPath: func(p string) string { return schemaDisplayDir + "/" + p },
		Package:    "daemongen",
	})
	if len(insts) != 1 || insts[0].Err != nil {
		panic(fmt.Sprintf("gen: loading the embedded schema: %v", insts[0].Err))
	}
	return insts[0]
})

// compileSchema builds the schema in ctx and returns it with its #Fields and #Rules.
func compileSchema(ctx *cue.Context) (root, fields, rules cue.Value) {
	root = ctx.BuildInstance(schemaInstance())
	if err := root.Err(); err != nil {
		panic("gen: the embedded schema does not build: " + errors.Details(err, nil))
	}
	return root, root.LookupPath(cue.ParsePath("#Fields")), root.LookupPath(cue.ParsePath("#Rules"))
}

// schemaNode describes one struct of the schema, reached by an abstract path whose list
// indexes are "*".
type schemaNode struct {
	// order lists the fields in the order the schema declares them: the output's key order.
	order []string
	// fields maps each field to what the schema says of it.
	fields map[string]*schemaField
	// isMap is set for structs whose keys are free (log options): sorted in the output.
	isMap bool
}

// schemaField is one field of a schema struct.
type schemaField struct {
	required bool
	// unsupported is the message of a field that ordinary task definitions have and
	// daemon task definitions lack.
	unsupported string
	// enum lists the allowed values of a string enum field, for suggestions.
	enum []string
	// elemEnum lists the allowed values of the elements of a list of enums.
	elemEnum []string
}

// processSchema is the schema compiled once per process, for what only reads it: the
// index, the warning ids and the field descriptions. Checking daemons uses evaluators of
// their own (see [newEvaluator]), whose contexts are replaced as they grow.
var processSchema = sync.OnceValue(func() cue.Value {
	root, _, _ := compileSchema(cuecontext.New())
	return root
})

// schemaIndex maps abstract paths ("containerDefinitions.*.healthCheck") to the schema's
// structs. It is built once per process from #Fields.
var schemaIndex = sync.OnceValue(func() map[string]*schemaNode {
	fields := processSchema().LookupPath(cue.ParsePath("#Fields"))
	idx := map[string]*schemaNode{}
	indexStruct(idx, "", fields)
	return idx
})

func indexStruct(idx map[string]*schemaNode, path string, v cue.Value) {
	sn := &schemaNode{fields: map[string]*schemaField{}}
	idx[path] = sn
	if p := v.LookupPath(cue.MakePath(cue.AnyString)); p.Exists() {
		sn.isMap = true
	}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		panic(err)
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		fv := it.Value()
		f := &schemaField{required: it.FieldType()&cue.RequiredConstraint != 0}
		sn.fields[name] = f
		if err := fv.Err(); err != nil && fv.IncompleteKind() == cue.BottomKind {
			// A field whose value is only an error() is one that daemons do not support.
			f.unsupported = errorMessage(err)
			continue
		}
		if fv.IncompleteKind() == cue.BottomKind {
			panic(fmt.Sprintf("gen: schema field %s.%s has no kind", path, name))
		}
		sn.order = append(sn.order, name)
		child := joinAbstract(path, name)
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
				f.elemEnum = enumValues(elem)
			}
		case k&cue.StringKind != 0:
			f.enum = enumValues(fv)
		}
	}
}

// enumValues returns the string literals of a disjunction such as "a" | "b" | error("..").
func enumValues(v cue.Value) []string {
	op, args := v.Expr()
	switch {
	case op == cue.OrOp:
		var out []string
		for _, a := range args {
			if s, err := a.String(); err == nil {
				out = append(out, s)
			} else {
				out = append(out, enumValues(a)...)
			}
		}
		return out
	case op == cue.SelectorOp || op == cue.NoOp:
		// A reference, such as [...#capability]: look at what it refers to.
		if e := v.Eval(); e.Pos() != v.Pos() {
			if eop, _ := e.Expr(); eop == cue.OrOp {
				return enumValues(e)
			}
		}
	}
	return nil
}

func joinAbstract(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// abstractPath turns a concrete path into the schema index's form.
func abstractPath(path []any) string {
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

// errorMessage returns the message of a CUE error without its path.
func errorMessage(err error) string {
	errs := errors.Errors(err)
	if len(errs) == 0 {
		return err.Error()
	}
	format, args := errs[0].Msg()
	return fmt.Sprintf(format, args...)
}
