package gen

import (
	"fmt"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
)

// Format returns a spec file formatted as its language's own formatter does: CUE as cue
// fmt (cue/format), HCL (.hcl, variable files included) as terraform fmt (hclwrite). A file
// that does not parse is reported at its error instead.
func Format(name string, src []byte) ([]byte, hcl.Diagnostics) {
	switch lang.Of(name) {
	case lang.CUE:
		// As cue fmt does: parse with comments, print with the default options.
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		if err != nil {
			return nil, encoding.CUEErrors(err)
		}
		out, err := format.Node(f)
		if err != nil {
			return nil, encoding.CUEErrors(errors.Promote(err, "cannot format"))
		}
		return out, nil
	case lang.HCL:
		// hclwrite formats what it is given even when it does not parse; check first, so
		// that a broken file is reported, not rewritten.
		if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
			return nil, diags
		}
		return hclwrite.Format(src), nil
	}
	return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Subject: &hcl.Range{Filename: name},
		Detail: fmt.Sprintf("not a .cue or .hcl file: %s", strings.TrimPrefix(filepath.Ext(name), "."))}}
}
