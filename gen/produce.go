// This file makes one unit into an output, on a pool of workers: layer, lower, hold to
// the policy, check, lint, render, name the file.

package gen

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/daemongen/daemongen/internal/cache"
	"github.com/daemongen/daemongen/internal/check"
	"github.com/daemongen/daemongen/internal/diag"
	"github.com/daemongen/daemongen/internal/encoding"
	"github.com/daemongen/daemongen/internal/spec"
)

type output struct {
	json      []byte
	sensitive [][]any // the paths of sensitive values
	check     string  // the unit's check key (see [checkKey]), when the run computed it
	facts     *FleetDaemon
}

// windowsReservedID is the id of the warning for a family that names a Windows device.
const windowsReservedID = "windows-reserved-name"

// windowsReserved reports whether a file named family.json names a device on Windows,
// whatever its case.
func windowsReserved(family string) bool {
	switch base, _, _ := strings.Cut(strings.ToUpper(family), "."); base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	case "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}

// maxFileName is the longest file name, in bytes, that common file systems allow.
const maxFileName = 255

// evaluatorPool keeps the evaluators of a run between its batches of units, so that each
// worker does not compile the schema again.
type evaluatorPool struct {
	mu   sync.Mutex
	free []*check.Evaluator
}

func (p *evaluatorPool) get() *check.Evaluator {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		e := p.free[n-1]
		p.free = p.free[:n-1]
		return e
	}
	return check.NewEvaluator()
}

func (p *evaluatorPool) put(e *check.Evaluator) {
	p.mu.Lock()
	p.free = append(p.free, e)
	p.mu.Unlock()
}

// run checks and renders the units on a pool of workers, one evaluator each, taken from
// pool. Results come back in the units' order, whatever order the workers finish in.
func run(units []*unit, pool *evaluatorPool, progress func(done, total int), known *cache.Known) ([]*output, hcl.Diagnostics) {
	outputs := make([]*output, len(units))
	unitDiags := make([]hcl.Diagnostics, len(units))
	work := make(chan int)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		done    int
		crashed any
	)
	for range min(runtime.GOMAXPROCS(0), max(len(units), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic is a bug: it is raised again in the caller's goroutine, where the
			// command reports it, rather than ending the process from a worker.
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					crashed = fmt.Sprintf("%v\n%s", v, debug.Stack())
					mu.Unlock()
					for range work {
					}
				}
			}()
			var ev *check.Evaluator
			evaluator := func() *check.Evaluator {
				if ev == nil {
					ev = pool.get()
				}
				return ev
			}
			defer func() {
				if ev != nil {
					pool.put(ev)
				}
			}()
			for i := range work {
				outputs[i], unitDiags[i] = produce(evaluator, units[i], known)
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(units))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range units {
		work <- i
	}
	close(work)
	wg.Wait()
	if crashed != nil {
		panic(crashed)
	}
	var diags hcl.Diagnostics
	for i, ds := range unitDiags {
		diags = append(diags, diag.WithContext(ds, units[i].context())...)
	}
	return outputs, diags
}

// produce makes one unit: layer, lower, check, render. evaluator returns the worker's
// evaluator, made on first use: a unit the cache answers needs none.
func produce(evaluator func() *check.Evaluator, u *unit, known *cache.Known) (*output, hcl.Diagnostics) {
	var (
		api     *Node
		diags   hcl.Diagnostics
		ignored []string
	)
	var daemon *Node // the daemon's merged layers, for what the API form lacks
	if u.raw {
		api = u.root.Clone()
	} else {
		layers := spec.Layers(u.root, u.key, u.env)
		daemon = spec.Layer(layers)
		if daemon == nil {
			return nil, nil
		}
		api, diags = spec.Lower(daemon, u.key)
		ignored = spec.IgnoredWarnings(layers)
	}
	var violated, excepted []string // the policy's rules the daemon breaks, and is let through
	if u.policies != nil && len(diags) == 0 {
		// The policy's verdict is never cached: exceptions expire by the date.
		var ds hcl.Diagnostics
		ds, violated, excepted = policyDiags(u.policies, api, u.env, u.today)
		diags = append(diags, ds...)
	}
	marked := func(o *output, ds hcl.Diagnostics) (*output, hcl.Diagnostics) {
		if o != nil && o.facts != nil {
			o.facts.Violations, o.facts.Exceptions = violated, excepted
		}
		return o, ds
	}
	var key string
	if known.Enabled() && len(diags) == 0 {
		key = cache.CheckKey(api, !u.raw, ignored)
		if rendered, ok := known.Get(key); ok {
			return marked(finish(u, api, daemon, rendered, nil, key, ignored))
		}
	}
	diags = append(diags, evaluator().Check(api, !u.raw)...)
	if !diags.HasErrors() {
		diags = append(diags, lintDiags(api)...) // on a definition the API accepts
	}
	// An acknowledged warning prints nothing.
	diags = slices.DeleteFunc(diags, func(d *hcl.Diagnostic) bool {
		id := diag.WarningID(d)
		return id != "" && slices.Contains(ignored, id)
	})
	if diags.HasErrors() {
		if len(violated) > 0 {
			// No output, but what daemongen fleet shows of the daemon, and what it breaks.
			return marked(&output{facts: daemonFacts(u, api, daemon, ignored)}, diags)
		}
		return nil, diags
	}
	rendered := encoding.Render(api)
	if key != "" && len(diags) == 0 && !api.HasSensitive() {
		known.Put(key, rendered) // a sensitive value is never written to the cache
	}
	return marked(finish(u, api, daemon, rendered, diags, key, ignored))
}

// finish names a checked unit's output file and returns it; key is its check key, if
// the run computed one, and ignored the warnings the daemon acknowledges. A file to
// write must have a name that every file system takes; vet, which writes nothing,
// follows the API alone.
func finish(u *unit, api, daemon *Node, rendered []byte, diags hcl.Diagnostics, key string, ignored []string) (*output, hcl.Diagnostics) {
	family, _ := api.Get("family").Str()
	if f := api.Get("family"); f != nil && f.Sensitive {
		return nil, append(diags, check.DiagAt(api, []any{"family"}, hcl.DiagError,
			"the family comes from a sensitive value: it names the output file and is shown wherever the daemon is, so it cannot be secret"))
	}
	if u.writes && windowsReserved(family) && !slices.Contains(ignored, windowsReservedID) {
		d := check.DiagAt(api, []any{"family"}, hcl.DiagWarning, fmt.Sprintf(
			"the output file %s.json has a name Windows reserves for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9): it cannot be checked out there", family))
		diag.ExtraOf(d).WarningID = windowsReservedID
		diags = append(diags, d)
	}
	if u.writes && len(family)+len(".json") > maxFileName {
		d := check.DiagAt(api, []any{"family"}, hcl.DiagError, fmt.Sprintf(
			"a family of %d characters makes the output file name %d bytes long, and file systems allow %d: use at most %d characters",
			len(family), len(family)+len(".json"), maxFileName, maxFileName-len(".json")))
		return nil, append(diags, d)
	}
	u.out = family + ".json"
	u.familyAt = api.Get("family").Pos
	if u.env != "" {
		u.out = u.env + "/" + u.out
	}
	return &output{json: rendered, sensitive: api.SensitivePaths(nil, nil), check: key, facts: daemonFacts(u, api, daemon, ignored)}, diags
}
