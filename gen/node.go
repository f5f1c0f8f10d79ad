package gen

import "github.com/daemongen/daemongen/internal/node"

// The data values of specs, from internal/node: gen names them as it always has.
type (
	// Node is a data value as written in a spec, with its position (see [node.Node]).
	Node = node.Node
	// Field is one field of a Struct [Node].
	Field = node.Field
	// Kind is the kind of a [Node].
	Kind = node.Kind
)

// The kinds of values a spec can hold.
const (
	Null   = node.Null
	Bool   = node.Bool
	Number = node.Number
	String = node.String
	List   = node.List
	Struct = node.Struct
)

var (
	// NewString returns a String node.
	NewString = node.NewString
	// NewStruct returns a Struct node.
	NewStruct = node.NewStruct
)

// fromJSON and equalNodes are node's, by the names gen's files use.
var (
	fromJSON   = node.FromJSON
	equalNodes = node.Equal
)
