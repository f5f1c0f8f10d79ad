// This file holds the HCL source: the spec's .hcl files, evaluated by hclspec per
// environment with its variables.

package load

import (
	"os"

	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// varFileSuffix names HCL variable files, which a directory's specs do not include.
const varFileSuffix = ".vars.hcl"

// hclSource reads HCL files that together make one spec. specDir is where file() reads
// relative paths from.
func hclSource(specDir string, abs []string, in hclspec.Inputs) *Source {
	parse := func() (*hclspec.Spec, hcl.Diagnostics) {
		sources := map[string][]byte{}
		var diags hcl.Diagnostics
		for _, f := range abs {
			b, d := ReadInput(f)
			if d != nil {
				diags = append(diags, d)
				continue
			}
			sources[f] = b
		}
		spec, ds := hclspec.Parse(abs, sources, specDir)
		return spec, append(diags, ds...)
	}
	var (
		spec   *hclspec.Spec // until released
		envs   []string
		failed hcl.Diagnostics
	)
	s := &Source{Language: lang.HCL}
	s.Open = func() hcl.Diagnostics {
		if spec, failed = parse(); failed.HasErrors() {
			return failed
		}
		for _, f := range abs {
			if info, err := os.Stat(f); err == nil {
				s.Size += info.Size()
			}
		}
		envs = spec.Environments()
		s.PerEnv = len(envs) > 0
		for _, c := range spec.EnvComparisons() {
			s.envNames = append(s.envNames, envName{c.Name, spec.Pos(c.Range)})
		}
		s.envEntries, s.envEntriesAll = nil, true
		for _, b := range spec.EnvBlocks() {
			s.envEntries = append(s.envEntries, envEntry{b.Name, spec.Pos(b.Range), b.OverlayOnly, true})
		}
		return nil
	}
	s.releaseFunc = func() { spec = nil }
	s.Eval = func(env string) (*node.Node, hcl.Diagnostics) {
		if failed.HasErrors() {
			return nil, failed
		}
		if env == "" && s.PerEnv {
			root := node.NewStruct(token.NoPos)
			list := node.NewStruct(token.NoPos)
			for _, e := range envs {
				list.Set(e, node.NewStruct(token.NoPos))
			}
			root.Set(lang.SectionEnvironments, list)
			return root, nil
		}
		if spec == nil {
			// Read again after a release; the files were read once without error.
			var ds hcl.Diagnostics
			if spec, ds = parse(); ds.HasErrors() {
				return nil, ds
			}
		}
		// An attribute whose expression fails is left out and reported; the daemons it
		// reaches are not checked (see source.failed), the rest are, so that every
		// mistake shows at once and none as a knock-on of another.
		expr, sensitive, failed, diags := spec.CUE(env, in)
		s.Failed = failed
		if expr == nil {
			return nil, diags
		}
		v := cuecontext.New().BuildExpr(expr)
		if err := v.Err(); err != nil {
			return nil, append(diags, encoding.CUEErrors(err)...)
		}
		root, ds := encoding.FromCUE(v)
		root.MarkSensitive(sensitive)
		return root, append(diags, ds...)
	}
	return s
}
