// This file holds the CUE source: a package or files, loaded by CUE's own loader with the
// @tag values, once per environment when the spec reads @tag(env), and its cache key.

package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/literal"
	cueload "cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/mod/modconfig"
	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/lang"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/safefile"
)

// loadArg makes an absolute path into the form cueload.Instances takes: relative to dir and
// starting with ./ or ../.
func loadArg(dir, abs string) string {
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return abs
	}
	rel = filepath.ToSlash(rel)
	if !strings.HasPrefix(rel, "../") && rel != ".." {
		rel = "./" + rel
	}
	return rel
}

// cueSource loads a CUE package from a directory or from a list of files, with the @tag
// values tags (key=value) and, per environment, env.
func cueSource(abs []string, tags []string) *Source {
	// CUE finds the module (cue.mod) from the folder it loads in: the spec's own folder,
	// so that a spec imports its module's packages wherever daemongen runs from.
	var dir string
	if info, err := os.Stat(abs[0]); err == nil && info.IsDir() {
		dir = abs[0]
	} else {
		dir = filepath.Dir(abs[0])
	}
	args := make([]string, len(abs))
	for i, a := range abs {
		args[i] = loadArg(dir, a)
	}
	loadWith := func(tags []string) (*build.Instance, hcl.Diagnostics) {
		insts := cueload.Instances(args, &cueload.Config{Dir: dir, Tags: tags, Registry: registry})
		if len(insts) != 1 {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Detail: fmt.Sprintf("%s: expected one CUE package, found %d", strings.Join(args, " "), len(insts))}}
		}
		if err := insts[0].Err; err != nil {
			return nil, encoding.CUEErrors(err)
		}
		if diags := checkSyntaxLimits(insts[0]); diags.HasErrors() {
			return nil, diags
		}
		return insts[0], nil
	}
	var (
		base   *build.Instance // the package without an environment, until released
		failed hcl.Diagnostics // why it does not load
	)
	s := &Source{Language: lang.CUE}
	s.keyFunc = func() (string, bool) { return cueInputKey(dir, abs, tags) }
	s.Open = func() hcl.Diagnostics {
		for _, a := range abs {
			files := []string{a}
			if info, err := os.Stat(a); err == nil && info.IsDir() {
				files, _ = filepath.Glob(filepath.Join(a, "*.cue"))
			}
			for _, f := range files {
				if _, d := ReadInput(f); d != nil {
					failed = append(failed, d)
				}
			}
		}
		if !failed.HasErrors() {
			base, failed = loadWith(tags)
		}
		if failed.HasErrors() {
			return failed
		}
		s.PerEnv, s.Params, s.envNames = usesTag(base, EnvTag), taggedFields(base), envComparisons(base)
		s.envEntries, s.envEntriesAll, s.envIndexes = cueEnvSyntax(base)
		return nil
	}
	s.releaseFunc = func() { base = nil }
	s.Eval = func(env string) (*node.Node, hcl.Diagnostics) {
		if failed.HasErrors() {
			return nil, failed
		}
		inst := base
		if env != "" && s.PerEnv || inst == nil {
			loadTags := tags
			if env != "" && s.PerEnv {
				loadTags = append(slices.Clone(tags), EnvTag+"="+env)
			}
			var diags hcl.Diagnostics
			if inst, diags = loadWith(loadTags); diags.HasErrors() {
				return nil, diags
			}
		}
		v := cuecontext.New().BuildInstance(inst)
		if err := v.Err(); err != nil {
			return nil, encoding.CUEErrors(err)
		}
		// Without an environment, `env` has no value and whatever depends on it is
		// incomplete: only the list of environments is read from such an evaluation.
		if env == "" && s.PerEnv {
			return envNamesOnly(v)
		}
		return encoding.FromCUE(v)
	}
	return s
}

// cueInputKey is the cache key of a CUE source (see [source.inputKey]): the .cue files of
// the paths abs, loaded from dir with tags.
func cueInputKey(dir string, abs, tags []string) (string, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cue.mod")); err == nil {
			return "", false // a module: ancestor folders' files and imports join the package
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	files := map[string][]byte{}
	for _, a := range abs {
		names := []string{a}
		if info, err := os.Stat(a); err == nil && info.IsDir() {
			names, _ = filepath.Glob(filepath.Join(a, "*.cue"))
		}
		for _, name := range names {
			data, err := safefile.Read(name, node.MaxFileSize)
			if err != nil || bytes.Contains(data, []byte("@extern")) || bytes.Contains(data, []byte("@embed")) {
				return "", false
			}
			f, err := parser.ParseFile(name, data, parser.ImportsOnly)
			if err != nil {
				return "", false
			}
			for spec := range f.ImportSpecs() {
				path, err := literal.Unquote(spec.Path.Value)
				if first, _, _ := strings.Cut(path, "/"); err != nil || strings.Contains(first, ".") {
					return "", false // not the standard library
				}
			}
			files[name] = data
		}
	}
	return cache.SourceKey("cue", tags, files), len(files) > 0
}

// registry fetches the CUE modules that specs import, as the cue command does
// ($CUE_REGISTRY, cue login), but never waits on a registry for long: a connection, a
// response and a whole request each have a deadline, and the error names the registry.
var registry = &modconfig.LazyRegistry{New: func() (modconfig.CachedRegistry, error) {
	return modconfig.NewRegistry(&modconfig.Config{ClientType: "daemongen", Transport: &deadlineTransport{
		base: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		timeout: registryTimeout,
	}})
}}

// registryTimeout bounds one request to a module registry, body included.
const registryTimeout = 60 * time.Second

// deadlineTransport gives every request a deadline that also covers reading its body.
type deadlineTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("module registry %s: %w", req.URL.Host, err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}

// usesTag reports whether any file of inst declares @tag(name).
func usesTag(inst *build.Instance, name string) bool {
	found := false
	for _, f := range inst.Files {
		ast.Walk(f, func(n ast.Node) bool {
			if a, ok := n.(*ast.Attribute); ok {
				key, body := a.Split()
				if key == "tag" && strings.TrimSpace(strings.SplitN(body, ",", 2)[0]) == name {
					found = true
				}
			}
			return !found
		}, nil)
	}
	return found
}

// taggedFields returns the top-level fields of inst that take an @tag value: parameters
// of the spec (version: string @tag(version)), not misspelt sections.
func taggedFields(inst *build.Instance) []string {
	var names []string
	for _, f := range inst.Files {
		for _, d := range f.Decls {
			field, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			for _, a := range field.Attrs {
				if key, _ := a.Split(); key == "tag" {
					if name, _, err := ast.LabelName(field.Label); err == nil {
						names = append(names, name)
					}
				}
			}
		}
	}
	return names
}
