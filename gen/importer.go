package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/load"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/spec"
)

// ImportConfig says what to import.
type ImportConfig struct {
	// Files are register-input JSON files, or the output of
	// aws ecs describe-daemon-task-definition.
	Files []string
	// To is the spec language: "cue" or "hcl".
	To string
	// Factor writes the files of one family from several environments as one daemon with
	// per-environment overrides. Each file's environment is its folder's name when the file
	// is named after its family (out/prod/agent.json), else the file's own name (prod.json).
	Factor bool
}

// Imported is the result of an import: spec files by family, and notes for the user.
type Imported struct {
	// Specs maps each family to its spec text.
	Specs map[string][]byte
	// Combined is every family in one spec text.
	Combined []byte
	// Notes say what the import left out, such as the read-only fields of describe output.
	Notes []string
}

// readOnlyFields are fields of describe output that registering does not take.
var readOnlyFields = []string{
	"daemonTaskDefinitionArn", "taskDefinitionArn", "revision", "status", "registeredAt",
	"registeredBy", "deregisteredAt", "deleteRequestedAt", "requiresAttributes", "compatibilities",
}

// importedDaemon is one input file, in the concise form.
type importedDaemon struct {
	file, family, env string
	concise           *Node
}

// Import turns register-input JSON into spec text in the concise forms. Generating from
// the result gives the input back: a list keeps the API form wherever the keyed form would
// reorder it or lose a field.
func Import(cfg ImportConfig) (*Imported, error) {
	res := &Imported{Specs: map[string][]byte{}}
	var daemons []importedDaemon
	for _, file := range cfg.Files {
		d, notes, err := readImport(file)
		if err != nil {
			return nil, err
		}
		res.Notes = append(res.Notes, notes...)
		daemons = append(daemons, d)
	}
	byFamily := map[string][]importedDaemon{}
	var families []string
	for _, d := range daemons {
		if _, seen := byFamily[d.family]; !seen {
			families = append(families, d.family)
		}
		byFamily[d.family] = append(byFamily[d.family], d)
	}
	slices.Sort(families)
	var combined *Node
	for _, family := range families {
		ds := byFamily[family]
		root := NewStruct(token.NoPos)
		switch {
		case len(ds) == 1 && !cfg.Factor:
			root.Set(lang.SectionDaemons, NewStruct(token.NoPos, &Field{Name: family, Value: ds[0].concise}))
		case !cfg.Factor:
			return nil, fmt.Errorf("%s and %s both hold the family %s; use --factor to write them as environments of one daemon", ds[0].file, ds[1].file, family)
		default:
			spec, err := factor(family, ds)
			if err != nil {
				return nil, err
			}
			root = spec
		}
		text, err := writeSpec(root, cfg.To)
		if err != nil {
			return nil, err
		}
		res.Specs[family] = text
		combined = spec.Merge(combined, root)
	}
	if combined != nil {
		text, err := writeSpec(combined, cfg.To)
		if err != nil {
			return nil, err
		}
		res.Combined = text
	}
	return res, nil
}

// writeSpec writes a spec root in the language to ("cue" or "hcl").
func writeSpec(root *Node, to string) ([]byte, error) {
	if to == "hcl" {
		return encoding.WriteHCL(root), nil
	}
	return encoding.WriteCUE(root)
}

// readImport reads one file: unwraps describe output, strips its read-only fields, and
// turns the rest into the concise form.
func readImport(file string) (importedDaemon, []string, error) {
	data, bad := load.ReadJSONFile(file)
	if bad != nil {
		return importedDaemon{}, nil, fmt.Errorf("%s", diag.FormatDiagnostic(bad, ""))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		what := "not a JSON object"
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			what = "a JSON " + te.Value + ", not an object"
		}
		return importedDaemon{}, nil, fmt.Errorf("%s:1:1: %s; want a daemon task definition (register input or describe output)", file, what)
	}
	var notes []string
	if inner, ok := doc["daemonTaskDefinition"].(map[string]any); ok {
		// Describe output has no tags of its own; tags kept beside it by other tools
		// (as --include TAGS does for ordinary task definitions) are taken along.
		if tags, ok := doc["tags"]; ok && inner["tags"] == nil {
			inner["tags"] = tags
		}
		doc = inner
	}
	var stripped []string
	for _, f := range readOnlyFields {
		if _, ok := doc[f]; ok {
			delete(doc, f)
			stripped = append(stripped, f)
		}
	}
	if len(stripped) > 0 {
		notes = append(notes, fmt.Sprintf("%s: left out the read-only fields of describe output: %s", file, strings.Join(stripped, ", ")))
	}
	family, _ := doc["family"].(string)
	if family == "" {
		return importedDaemon{}, nil, fmt.Errorf("%s:1:1: family: missing required field family; want register input or describe-daemon-task-definition output", file)
	}
	api := inSchemaOrder(fromJSON(doc), nil)
	d := importedDaemon{file: file, family: family, concise: toConcise(api)}
	d.env = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if d.env == family {
		d.env = filepath.Base(filepath.Dir(file))
	}
	return d, notes, nil
}

// inSchemaOrder orders every struct's fields as the output does, so that the spec reads in
// the same order as the JSON daemongen writes.
func inSchemaOrder(n *Node, path []any) *Node {
	switch n.Kind {
	case Struct:
		n.Fields = encoding.OrderedFields(n, path)
		for _, f := range n.Fields {
			inSchemaOrder(f.Value, append(slices.Clip(path), f.Name))
		}
	case List:
		for i, e := range n.Elems {
			inSchemaOrder(e, append(slices.Clip(path), i))
		}
	}
	return n
}

// toConcise turns a daemon in API form into the concise form, the reverse of [spec.Lower]:
// every keyed list becomes a struct where that loses nothing, and the family becomes the
// daemon's key.
func toConcise(api *Node) *Node {
	// Every list that a keyed form lowers back to becomes that keyed form, at every level.
	api = lang.MapKeyed(api, func(s *Node, forms map[string]lang.KeyedForm) *Node {
		return s.Replace(func(f *node.Field) *Node {
			if form, keyed := forms[f.Name]; keyed {
				if m := keyedStruct(f.Value, form); m != nil {
					return m
				}
			}
			return f.Value
		})
	})
	out := NewStruct(token.NoPos)
	for _, f := range api.Fields {
		switch f.Name {
		case "family":
		case "containerDefinitions":
			if m := keyedStruct(f.Value, lang.KeyedForm{KeyField: "name"}); m != nil {
				out.Set(lang.FieldContainers, m)
			} else {
				out.Set(f.Name, f.Value)
			}
		default:
			out.Set(f.Name, f.Value)
		}
	}
	return out
}

// keyedStruct writes a list as a struct keyed by form.keyField, using the shorthand where
// lowering it gives the element back. It returns nil when the keyed form would not lower
// to the same list: keys missing, repeated or out of order.
func keyedStruct(list *Node, form lang.KeyedForm) *Node {
	if list.Kind != List || len(list.Elems) == 0 {
		return nil
	}
	m := NewStruct(token.NoPos)
	prev := ""
	for i, e := range list.Elems {
		key, ok := e.Get(form.KeyField).Str()
		if e.Kind != Struct || !ok || (i > 0 && key <= prev) {
			return nil
		}
		prev = key
		rest := NewStruct(token.NoPos)
		for _, f := range e.Fields {
			if f.Name != form.KeyField {
				rest.Fields = append(rest.Fields, f)
			}
		}
		m.Set(key, shorthand(rest, form))
	}
	return m
}

// shorthand returns the shorthand value that lowers to rest, or rest itself: the scalar
// inside rest, at any depth, that form.short expands back into rest.
func shorthand(rest *Node, form lang.KeyedForm) *Node {
	if form.Short == nil {
		return rest
	}
	for _, leaf := range scalars(rest) {
		if equalNodes(NewStruct(token.NoPos, form.Short(leaf)...), rest) {
			return leaf
		}
	}
	return rest
}

// scalars lists the scalar values inside the structs of n, in field order.
func scalars(n *Node) []*Node {
	var out []*Node
	for _, f := range n.Fields {
		switch f.Value.Kind {
		case Struct:
			out = append(out, scalars(f.Value)...)
		case Bool, Number, String:
			out = append(out, f.Value)
		}
	}
	return out
}

// factor writes the files of one family from several environments as one daemon holding
// what all environments share, and per-environment overrides holding the rest.
func factor(family string, ds []importedDaemon) (*Node, error) {
	seen := map[string]string{}
	for _, d := range ds {
		if !lang.NameRE.MatchString(d.env) {
			return nil, fmt.Errorf("%s: %q is not an environment name; name the file after its environment (prod.json) or put it in a folder named after it (prod/%s.json)", d.file, d.env, family)
		}
		if prev, dup := seen[d.env]; dup {
			return nil, fmt.Errorf("%s and %s are both the %s environment of %s", prev, d.file, d.env, family)
		}
		seen[d.env] = d.file
	}
	trees := make([]*Node, len(ds))
	for i, d := range ds {
		trees[i] = d.concise
	}
	base := common(trees)
	if base == nil {
		base = NewStruct(token.NoPos)
	}
	envs := NewStruct(token.NoPos)
	slices.SortFunc(ds, func(a, b importedDaemon) int { return strings.Compare(a.env, b.env) })
	for _, d := range ds {
		env := NewStruct(token.NoPos)
		if rest := difference(d.concise, base); rest != nil && len(rest.Fields) > 0 {
			env.Set(lang.SectionDaemons, NewStruct(token.NoPos, &Field{Name: family, Value: rest}))
		}
		envs.Set(d.env, env)
	}
	return NewStruct(token.NoPos,
		&Field{Name: lang.SectionDaemons, Value: NewStruct(token.NoPos, &Field{Name: family, Value: base})},
		&Field{Name: lang.SectionEnvironments, Value: envs},
	), nil
}

// common returns what all trees share: the fields of structs present and equal in all of
// them, recursively; any other value only when it is equal in all. nil when nothing is.
func common(trees []*Node) *Node {
	first := trees[0]
	for _, t := range trees[1:] {
		if t.Kind != first.Kind {
			return nil
		}
	}
	if first.Kind != Struct {
		for _, t := range trees[1:] {
			if !equalNodes(first, t) {
				return nil
			}
		}
		return first
	}
	out := NewStruct(token.NoPos)
	for _, f := range first.Fields {
		values := []*Node{f.Value}
		for _, t := range trees[1:] {
			if v := t.Get(f.Name); v != nil {
				values = append(values, v)
			}
		}
		if len(values) != len(trees) {
			continue
		}
		if c := common(values); c != nil && !emptyOfNonEmpty(c, values) {
			out.Set(f.Name, c)
		}
	}
	return out
}

// emptyOfNonEmpty reports whether c, what values share, is an empty struct although some
// value is not: maps with nothing in common (secrets: {}) say nothing in the shared part.
// An empty struct that every value is (a volume ECS creates, scratch: {}) stays.
func emptyOfNonEmpty(c *Node, values []*Node) bool {
	if c.Kind != Struct || len(c.Fields) > 0 {
		return false
	}
	return slices.ContainsFunc(values, func(v *Node) bool { return len(v.Fields) > 0 })
}

// difference returns what tree has that base lacks or has otherwise, such that laying it
// over base gives tree back.
func difference(tree, base *Node) *Node {
	if base == nil {
		return tree
	}
	if tree.Kind != Struct || base.Kind != Struct {
		if equalNodes(tree, base) {
			return nil
		}
		return tree
	}
	out := NewStruct(token.NoPos)
	for _, f := range tree.Fields {
		if d := difference(f.Value, base.Get(f.Name)); d != nil {
			if d.Kind == Struct && len(d.Fields) == 0 && base.Get(f.Name) != nil {
				continue
			}
			out.Set(f.Name, d)
		}
	}
	return out
}
