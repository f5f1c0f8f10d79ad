package gen

import "github.com/daemongen/daemongen/internal/encoding"

// Render writes a validated daemon task definition as register-ready JSON: two-space
// indentation, keys in the order the schema declares them (free-form maps such as log
// options sorted), and a final newline. The same Node always gives the same bytes.
func Render(api *Node) []byte { return encoding.Render(api) }

// RedactDiff returns an old and a new rendering of a daemon task definition with the
// values at paths (see [Output.Sensitive]) shown as (sensitive value), or, on the new
// side where the value changed, (sensitive value, changed): a diff of the two shows that
// a secret changed without showing it. A side that is not a JSON object is returned as it
// is.
func RedactDiff(old, new []byte, paths [][]any) (oldOut, newOut []byte) {
	return encoding.RedactDiff(old, new, paths)
}
