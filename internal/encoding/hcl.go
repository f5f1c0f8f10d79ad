package encoding

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// WriteHCL writes a spec root as an HCL file.
func WriteHCL(root *node.Node) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	top := lang.Top{Node: root}
	for _, d := range top.Daemons() {
		writeHCLBody(body.AppendNewBlock("daemon", []string{d.Name}).Body(), d.Value)
		body.AppendNewline()
	}
	for _, env := range top.EnvironmentNames() {
		eb := body.AppendNewBlock("environment", []string{env}).Body()
		for _, d := range top.Environment(env).Daemons() {
			writeHCLBody(eb.AppendNewBlock("daemon", []string{d.Name}).Body(), d.Value)
		}
		body.AppendNewline()
	}
	return hclwrite.Format(f.Bytes())
}

// writeHCLBody writes a struct of the concise form: scalars, lists of scalars and free-form
// maps as attributes, keyed structs as labeled blocks, other structs as blocks.
func writeHCLBody(body *hclwrite.Body, n *node.Node) {
	for _, f := range n.Fields {
		name := lang.Snake(f.Name)
		v := f.Value
		switch {
		case v.Kind == node.Struct && isKeyedBlock(f.Name) && allStructs(v):
			block, _ := lang.KeyedBlock(f.Name)
			for _, e := range v.Fields {
				writeHCLBody(body.AppendNewBlock(block, []string{e.Name}).Body(), e.Value)
			}
		case v.Kind == node.Struct && lang.IsMapAttribute(f.Name):
			body.SetAttributeValue(name, ctyValue(v))
		case v.Kind == node.Struct:
			writeHCLBody(body.AppendNewBlock(name, nil).Body(), v)
		case v.Kind == node.List && isListBlock(f.Name) && len(v.Elems) > 0 && allStructs(v):
			block, _ := lang.ListBlock(f.Name)
			for _, e := range v.Elems {
				writeHCLBody(body.AppendNewBlock(block, nil).Body(), e)
			}
		default:
			body.SetAttributeValue(name, ctyValue(v))
		}
	}
}

func isKeyedBlock(name string) bool { _, ok := lang.KeyedBlock(name); return ok }

func isListBlock(name string) bool { _, ok := lang.ListBlock(name); return ok }

func allStructs(n *node.Node) bool {
	for _, e := range append(n.Elems, fieldValues(n)...) {
		if e.Kind != node.Struct {
			return false
		}
	}
	return true
}

func fieldValues(n *node.Node) []*node.Node {
	var out []*node.Node
	for _, f := range n.Fields {
		out = append(out, f.Value)
	}
	return out
}

// ctyValue turns a value into cty for hclwrite. Structs inside lists keep the API's field
// names: HCL object keys are data and pass through unchanged.
func ctyValue(n *node.Node) cty.Value {
	switch n.Kind {
	case node.Null:
		return cty.NullVal(cty.DynamicPseudoType)
	case node.Bool:
		return cty.BoolVal(n.Bool)
	case node.Number:
		v, err := cty.ParseNumberVal(n.Text)
		if err != nil {
			return cty.StringVal(n.Text)
		}
		return v
	case node.String:
		return cty.StringVal(n.Text)
	case node.List:
		if len(n.Elems) == 0 {
			return cty.EmptyTupleVal
		}
		elems := make([]cty.Value, len(n.Elems))
		for i, e := range n.Elems {
			elems[i] = ctyValue(e)
		}
		return cty.TupleVal(elems)
	default:
		attrs := map[string]cty.Value{}
		for _, f := range n.Fields {
			attrs[f.Name] = ctyValue(f.Value)
		}
		return cty.ObjectVal(attrs)
	}
}
