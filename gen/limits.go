package gen

import "github.com/daemongen/daemongen/internal/node"

// The limits of what daemongen reads (see [node.MaxFileSize]), under gen's names.
const (
	MaxFileSize   = node.MaxFileSize   // the largest spec or JSON file, in bytes
	MaxDepth      = node.MaxDepth      // the deepest nesting of structs and lists in a spec
	MaxListLength = node.MaxListLength // the longest list in a spec
)
