package gen

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/check"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lint"
)

// lintDiags runs the security lints on a daemon in API form and reports each finding as a
// warning with its id, at the offending value.
func lintDiags(api *Node) (diags hcl.Diagnostics) {
	for _, f := range lint.Check(api) {
		d := check.DiagAt(api, f.Path, hcl.DiagWarning, f.Message)
		diag.ExtraOf(d).WarningID = f.ID
		diags = append(diags, d)
	}
	return diags
}
