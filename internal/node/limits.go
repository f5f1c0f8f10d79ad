package node

import (
	"fmt"
	"slices"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// The limits of what daemongen reads. A daemon task definition is small (ECS caps an
// ordinary task definition at 64 KiB), so each limit is far above any real spec and far
// below what would exhaust memory or time; each is checked before the expensive step that
// it protects, and reported at the offending position.
const (
	// MaxFileSize is the largest spec or JSON file, in bytes.
	MaxFileSize = 4 << 20
	// MaxDepth is the deepest nesting of structs and lists in a spec.
	MaxDepth = 64
	// MaxListLength is the longest list in a spec, and the most fields of one struct.
	MaxListLength = 10000
)

// OverLimits walks CUE syntax (a file, or a JSON file's expression) before it is evaluated
// and calls report for each list literal of more than max elements, and each struct
// literal of more than max fields, a keyed concise form being as long as the list it
// becomes. path is the labels and list indexes that lead to it, as a JSON file writes
// them. It does not look inside what it reports, so that a reported input costs no more.
func OverLimits(root ast.Node, max int, report func(pos token.Pos, path []string, msg string)) {
	type frame struct {
		pushed int  // the path elements this node added
		list   bool // the node is a list literal, whose elements are indexed
		next   int  // the index of its next element
	}
	var path []string
	var frames []frame
	ast.Walk(root, func(n ast.Node) bool {
		var f frame
		if len(frames) > 0 && frames[len(frames)-1].list {
			if _, comment := n.(*ast.CommentGroup); !comment {
				parent := &frames[len(frames)-1]
				path = append(path, strconv.Itoa(parent.next))
				parent.next++
				f.pushed++
			}
		}
		msg := ""
		switch x := n.(type) {
		case *ast.Field:
			label, _, _ := ast.LabelName(x.Label)
			path = append(path, label)
			f.pushed++
		case *ast.ListLit:
			f.list = true
			if len(x.Elts) > max {
				msg = fmt.Sprintf("a list of %d elements; lists may have at most %d", len(x.Elts), max)
			}
		case *ast.StructLit:
			fields := 0
			for _, d := range x.Elts {
				if _, comment := d.(*ast.CommentGroup); !comment {
					fields++
				}
			}
			if fields > max {
				msg = fmt.Sprintf("a struct of %d fields; structs may have at most %d", fields, max)
			}
		}
		if msg != "" {
			report(n.Pos(), slices.Clone(path), msg)
			path = path[:len(path)-f.pushed]
			return false
		}
		frames = append(frames, f)
		return true
	}, func(ast.Node) {
		f := frames[len(frames)-1]
		frames = frames[:len(frames)-1]
		path = path[:len(path)-f.pushed]
	})
}
