// Package load discovers a run's sources (CUE packages, HCL specs, JSON files) and reads
// them within the input limits: each becomes a Source that evaluates, per environment, to
// positioned nodes, and says what its syntax tells of environments, for the checks that
// catch a misspelled one. The front ends' own work is CUE's loader and package hclspec.
package load

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/hclspec"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
)

// EnvTag is the CUE tag that receives the environment's name: a spec that declares
// `env: string @tag(env)` is evaluated once per environment with it set.
const EnvTag = "env"

// Source is one input: a CUE package, a JSON file, or an HCL file set.
type Source struct {
	// Eval returns the source's root value for an environment ("" when the source is
	// evaluated once for all environments).
	Eval func(env string) (*node.Node, hcl.Diagnostics)
	// PerEnv is set when eval depends on the environment.
	PerEnv bool
	// language is the source's input language: HCL specs have variables, a JSON file
	// stands alone (one definition, or a spec of its own).
	Language lang.Language
	// Params are the top-level fields that take @tag values, beside the spec's own.
	Params []string
	// envNames are the names the spec compares env with, each with its position.
	envNames []envName
	// envEntries are the places that name an environment (see [envEntry]); envEntriesAll
	// is set when they are all the spec has, none being computed or imported.
	envEntries    []envEntry
	envEntriesAll bool
	// envIndexes are the structs the spec indexes by env ({dev: ..., prod: ...}[env]).
	envIndexes []envIndex
	// Failed says which daemons the front end's own errors in the latest evaluation reach
	// (HCL only): their checks are skipped, as they would report knock-ons only.
	Failed *hclspec.Failed
	// path is a JSON file's.
	Path string
	// Open reads the source's files and sets what the source says of itself (perEnv,
	// Params, envNames); it returns why they cannot be read, which eval returns too. Nil
	// for a source that has nothing to read before it is evaluated.
	Open func() hcl.Diagnostics
	// releaseFunc lets go of what the source keeps between evaluations (its parsed
	// files); the next evaluation reads them again. Nil when it keeps nothing.
	releaseFunc func()
	// keyFunc is inputKey; nil for a source that cannot be cached whole.
	keyFunc func() (string, bool)
	// Size is how many bytes open read.
	Size int64
	// Names are the folder or the files the source was given as: for messages, and for
	// the cache to find the latest record of the source, whatever its bytes.
	Names []string
}

// Named sets the names of s, and returns s.
func Named(s *Source, names ...string) *Source {
	s.Names = names
	return s
}

// Announce makes each evaluation of the source first call evaluating with its names,
// relative to dir.
func (s *Source) Announce(dir string, evaluating func(source string)) {
	rel := make([]string, len(s.Names))
	for i, n := range s.Names {
		rel[i] = diag.RelativeName(dir, n)
	}
	name, eval := strings.Join(rel, ", "), s.Eval
	s.Eval = func(env string) (*node.Node, hcl.Diagnostics) {
		evaluating(name)
		return eval(env)
	}
}

// InputKey returns the source's key in the cache, when its outputs depend on nothing but
// the bytes of its own files (and the tags, the build and the schema): a JSON file, or a
// CUE package outside any CUE module (cue.mod) that imports only the standard library and
// embeds no file. ok is false for any other source: its daemons are cached one by one.
func (s *Source) InputKey() (key string, ok bool) {
	if s.keyFunc == nil {
		return "", false
	}
	return s.keyFunc()
}

// Release lets go of what the source keeps between evaluations: a run calls it when it
// is done with the source, so that it holds one source's files at a time.
func (s *Source) Release() {
	if s.releaseFunc != nil {
		s.releaseFunc()
	}
}

// Discover turns the command line's paths into sources: each directory's .cue files form one
// package, the .cue files named on the command line form another, and every .json file is a
// daemon task definition of its own.
func Discover(dir string, paths []string, in hclspec.Inputs, tags []string) ([]*Source, hcl.Diagnostics) {
	var (
		sources  []*Source
		diags    hcl.Diagnostics
		cueFiles []string
		hclFiles []string
	)
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, p)
		}
		info, err := os.Stat(abs)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: no such file or directory", p)})
			continue
		}
		if info.IsDir() {
			entries, err := os.ReadDir(abs)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: err.Error()})
				continue
			}
			hasCUE := false
			before := len(sources)
			var dirHCL, autoVars []string
			for _, e := range entries {
				switch name := e.Name(); {
				case e.IsDir():
				case lang.Of(name) == lang.CUE:
					hasCUE = true
				case strings.HasSuffix(name, hclspec.AutoVarFileSuffix):
					autoVars = append(autoVars, filepath.Join(abs, name))
				case strings.HasSuffix(name, varFileSuffix):
					// Variable files are named with --var-file, not read as specs.
				case lang.Of(name) == lang.HCL:
					dirHCL = append(dirHCL, filepath.Join(abs, name))
				case lang.Of(name) == lang.JSON:
					sources = append(sources, jsonSource(filepath.Join(abs, name)))
				}
			}
			if hasCUE {
				sources = append(sources, Named(cueSource([]string{abs}, tags), abs))
			}
			if len(dirHCL) > 0 {
				// The folder's *.auto.vars.hcl come before --var-file, as Terraform's
				// *.auto.tfvars come before -var-file.
				dirIn := in
				dirIn.VarFiles = append(autoVars, in.VarFiles...)
				sources = append(sources, Named(hclSource(abs, dirHCL, dirIn), abs))
			}
			if len(sources) == before {
				msg := fmt.Sprintf("%s: no .cue, .hcl or .json files", p)
				var subdirs []string
				for _, e := range entries {
					if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
						subdirs = append(subdirs, filepath.ToSlash(filepath.Join(p, e.Name())))
					}
				}
				if len(subdirs) > 0 {
					msg += "; the specs may be in " + strings.Join(subdirs, ", ")
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: msg})
			}
			continue
		}
		switch lang.Of(p) {
		case lang.CUE:
			cueFiles = append(cueFiles, abs)
		case lang.JSON:
			sources = append(sources, jsonSource(abs))
		case lang.HCL:
			hclFiles = append(hclFiles, abs)
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: not a .cue, .hcl or .json file or a directory", p)})
		}
	}
	if len(cueFiles) > 0 {
		sources = append(sources, Named(cueSource(cueFiles, tags), cueFiles...))
	}
	if len(hclFiles) > 0 {
		sources = append(sources, Named(hclSource(dir, hclFiles, in), hclFiles...))
	}
	return sources, diags
}
