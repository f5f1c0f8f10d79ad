package spec

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/lint"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/schema"
)

// WarningIDs returns the ids of every warning: the schema's (#WarningIDs, in its order),
// then the security lints' (internal/lint), then the fleet checks' (internal/fleetcheck). Every warning is printed with its id; a spec
// acknowledges the ones it has weighed with ignoreWarnings, and an acknowledged warning
// prints nothing.
var WarningIDs = sync.OnceValue(func() []string {
	var ids []string
	if err := schema.Shared().LookupPath(cue.ParsePath("#WarningIDs")).Decode(&ids); err != nil || len(ids) == 0 {
		panic(fmt.Sprintf("gen: the schema's #WarningIDs: %v", err))
	}
	return append(append(ids, lint.IDs()...), fleetcheck.SharedHostPathID)
})

// CheckWarningIDs reports an ignoreWarnings value that is not a list of warning ids.
func CheckWarningIDs(n *node.Node, path string) (diags hcl.Diagnostics) {
	if n.Kind != node.List {
		return hcl.Diagnostics{Diag(n.Pos, path, fmt.Sprintf("invalid value %s: must be a list of warning ids", n.Literal()))}
	}
	for i, e := range n.Elems {
		id, ok := e.Str()
		if ok && slices.Contains(WarningIDs(), id) {
			continue
		}
		msg := fmt.Sprintf("invalid value %s: names no warning", e.Literal())
		if s := diag.Suggest(id, WarningIDs()); ok && s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; the warning ids are " + strings.Join(WarningIDs(), ", ")
		}
		diags = append(diags, Diag(e.Pos, fmt.Sprintf("%s[%d]", path, i), msg))
	}
	return diags
}

// IgnoredWarnings returns the warning ids that the layers of a daemon acknowledge: every
// layer's ignoreWarnings together, so that a daemon adds to what its defaults acknowledge.
func IgnoredWarnings(layers []NamedLayer) []string {
	var ids []string
	for _, l := range layers {
		for _, e := range l.Node.Get(lang.FieldIgnoreWarnings).ListElems() {
			if id, ok := e.Str(); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
