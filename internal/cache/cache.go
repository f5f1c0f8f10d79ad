// Package cache remembers, between runs, the daemons that passed their check (by a key
// of everything the check depends on) and whole sources (by their files' bytes), so that a
// rerun evaluates only what changed. It holds no message and no sensitive value: a run
// whose cache is lost or damaged gives the same bytes, only slower.
package cache

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	schemafs "github.com/daemongen/daemongen/cue"
	"github.com/daemongen/daemongen/internal/fleetcheck"
	"github.com/daemongen/daemongen/internal/node"
	"github.com/daemongen/daemongen/internal/safefile"
)

// Cache remembers the daemons that passed their check, so that a run whose inputs did not
// change skips the CUE evaluation of #Fields and #Rules, which is most of a run's work.
//
// An entry is keyed by everything a check depends on: the daemongen build, the schema,
// the warnings the daemon acknowledges, and the daemon's whole API form after layering and
// lowering, which every input byte, environment, tag and variable that reaches it shaped.
// Only a daemon with no diagnostic is remembered, so no message ever comes from the cache.
// Entries are written whole (a temporary file, then a rename), so concurrent runs can share
// a cache; an entry that does not verify is ignored and replaced. The cache is trimmed to
// MaxSize, oldest entries first.
type Cache struct {
	dir string
	// limit is the most bytes the folder may hold; MaxSize but in tests.
	limit int64
	// misses, sourceHits and reused count what [Stats] says.
	misses, sourceHits, reused atomic.Int64
	wrote                      atomic.Bool
}

// MaxSize bounds a cache folder, in bytes.
const MaxSize = 64 << 20

// DefaultDir returns where the cache lives: $DAEMONGEN_CACHE, or daemongen in the
// user's cache folder (os.UserCacheDir).
func DefaultDir() (string, error) {
	if dir := os.Getenv("DAEMONGEN_CACHE"); dir != "" {
		return dir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "daemongen"), nil
}

// Open returns the cache in dir, which is created when first written.
func Open(dir string) *Cache { return &Cache{dir: dir, limit: MaxSize} }

// cacheFormat changes whenever the meaning of an entry or a key changes.
// Stats counts what a cache did since it was opened.
type Stats struct {
	// Misses are the checks the cache could not answer.
	Misses int64
	// SourceHits are the sources replayed whole from their records. (A record found for
	// a run that needs an environment it lacks is not replayed.)
	SourceHits int64
	// Reused are the outputs taken from a changed source's latest record.
	Reused int64
}

// Stats returns what the cache did since it was opened.
func (c *Cache) Stats() Stats {
	return Stats{Misses: c.misses.Load(), SourceHits: c.sourceHits.Load(), Reused: c.reused.Load()}
}

// Replayed counts a source replayed whole from its record.
func (c *Cache) Replayed() { c.sourceHits.Add(1) }

const cacheFormat = "daemongen-check-cache/2"

// buildIdentity identifies the daemongen build: a released module (go install ...@v1.2.3)
// by its version and sum, a build from a clean checkout by its VCS revision, each with the
// Go version and every dependency's version (CUE's among them). Any other build, from
// modified sources say, is identified by the hash of the executable itself, so that a
// changed build never reads another build's entries.
var buildIdentity = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		var id strings.Builder
		id.WriteString(info.GoVersion)
		for _, d := range info.Deps {
			id.WriteString(" " + d.Path + "@" + d.Version + d.Sum)
		}
		switch {
		case info.Main.Version != "" && info.Main.Version != "(devel)" && info.Main.Sum != "":
			return "module " + info.Main.Path + "@" + info.Main.Version + info.Main.Sum + " " + id.String()
		case settings["vcs.revision"] != "" && settings["vcs.modified"] == "false":
			return "vcs " + settings["vcs.revision"] + " " + id.String()
		}
	}
	h := sha256.New()
	if exe, err := os.Executable(); err == nil {
		if f, err := os.Open(exe); err == nil {
			_, err := io.Copy(h, f)
			f.Close()
			if err == nil {
				return "exe " + hex.EncodeToString(h.Sum(nil))
			}
		}
	}
	// Nothing identifies this build: a key no other process can make.
	var rnd [16]byte
	rand.Read(rnd[:])
	return "unique " + hex.EncodeToString(rnd[:])
})

// schemaIdentity is the hash of the embedded schema's files.
var schemaIdentity = sync.OnceValue(func() string {
	h := sha256.New()
	names, _ := fs.Glob(schemafs.FS, "*.cue")
	slices.Sort(names)
	for _, name := range names {
		b, _ := fs.ReadFile(schemafs.FS, name)
		io.WriteString(h, name+"\x00")
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
})

// checkKey returns the key of a daemon's check: api is its API form before the check
// (which removes unknown fields), ignored the warnings it acknowledges.
func CheckKey(api *node.Node, concise bool, ignored []string) string {
	h := sha256.New()
	io.WriteString(h, cacheFormat+"\x00"+buildIdentity()+"\x00"+schemaIdentity()+"\x00")
	if concise {
		io.WriteString(h, "concise\x00")
	}
	ids := slices.Sorted(slices.Values(ignored))
	io.WriteString(h, strings.Join(slices.Compact(ids), ",")+"\x00")
	api.Canonical(h)
	return hex.EncodeToString(h.Sum(nil))
}

// The files of a cache folder. The folder may be shared with other programs (a user may
// point DAEMONGEN_CACHE at /tmp or at a folder of their own), so the cache reads, counts
// and removes only the files it can recognise as its own, by name and by content: an
// entry is KEY[:2]/KEY.json, holding entryMagic, its own key and the hash of its content
// on its first line; a temporary is KEY.json.RANDOM.tmp beside it. Anything else is never
// read as an entry, never counted and never removed.
const (
	// entryMagic starts every entry.
	entryMagic = "daemongen-cache-entry/2"
	// maxEntrySize bounds an entry: a source's record holds its outputs, a few KiB each.
	maxEntrySize = 16 << 20
	// staleTemporaryAge is how old a temporary must be before trim takes its writer for
	// dead.
	staleTemporaryAge = time.Hour
)

var (
	// entryKeyRE matches the keys of entries: checkKey's, sourceKey's and latestKey's.
	entryKeyRE = regexp.MustCompile(`^[sl]?[0-9a-f]{64}$`)
	// entryFolderRE matches the folders of entries: the first two characters of a key.
	entryFolderRE = regexp.MustCompile(`^([0-9a-f]{2}|[sl][0-9a-f])$`)
	// entryTempRE matches the temporaries of put.
	entryTempRE = regexp.MustCompile(`^([sl]?[0-9a-f]{64})\.json\.[0-9a-f]{16}\.tmp$`)
)

// entryPath returns the file of key.
func (c *Cache) entryPath(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// entryHeader is the first line of key's entry holding content.
func entryHeader(key string, content []byte) string {
	return entryMagic + " " + key + " " + hexSum(content) + "\n"
}

// get returns the output remembered for key, if a verified entry exists; a miss counts.
func (c *Cache) get(key string) ([]byte, bool) {
	out, ok := c.read(key)
	if !ok {
		c.misses.Add(1)
	}
	return out, ok
}

// read returns the verified entry of key, if there is one: a regular file (never a link,
// a pipe or a device) of at most maxEntrySize bytes, whose header names this very key and
// the hash of the rest. An entry swapped for another key's, or damaged, is ignored, and
// replaced when the check it would have skipped puts its result.
func (c *Cache) read(key string) ([]byte, bool) {
	if !entryKeyRE.MatchString(key) {
		return nil, false
	}
	b, err := safefile.ReadNoFollow(c.entryPath(key), maxEntrySize)
	if err != nil {
		return nil, false
	}
	header, out, ok := bytes.Cut(b, []byte("\n"))
	if !ok || string(header)+"\n" != entryHeader(key, out) {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(c.entryPath(key), now, now) // recently used entries are trimmed last
	return out, true
}

// put remembers output for key. A cache that cannot be written is only slower. Entries
// are readable by their owner alone (0600, in folders of 0700): they hold register input.
func (c *Cache) put(key string, output []byte) {
	if !entryKeyRE.MatchString(key) || len(output) > maxEntrySize-256 {
		return
	}
	path := c.entryPath(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	data := append([]byte(entryHeader(key, output)), output...)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return
	}
	c.wrote.Store(true)
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ownFile reports whether the file name in the cache's subfolder sub is the cache's own
// (see entryMagic): an entry whose header names the key of its name, or a temporary of
// put older than staleTemporaryAge. Only regular files count.
func ownFile(sub string, d fs.DirEntry, now time.Time) (fs.FileInfo, bool) {
	if !d.Type().IsRegular() {
		return nil, false
	}
	info, err := d.Info()
	if err != nil {
		return nil, false
	}
	name := d.Name()
	if m := entryTempRE.FindStringSubmatch(name); m != nil {
		return info, m[1][:2] == filepath.Base(sub) && now.Sub(info.ModTime()) > staleTemporaryAge
	}
	key, isJSON := strings.CutSuffix(name, ".json")
	if !isJSON || !entryKeyRE.MatchString(key) || key[:2] != filepath.Base(sub) {
		return nil, false
	}
	want := entryMagic + " " + key + " "
	head, err := safefile.Head(filepath.Join(sub, name), len(want))
	return info, err == nil && string(head) == want
}

// trim removes the least recently used entries while the cache's own files take more
// than its limit, down to three quarters of it. It runs after a run that wrote entries,
// and looks only into the subfolders entries live in (two characters of a key).
func (c *Cache) Trim() {
	if !c.wrote.Load() {
		return
	}
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var entries []entry
	var total int64
	subs, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	now := time.Now()
	for _, s := range subs {
		if !s.IsDir() || !entryFolderRE.MatchString(s.Name()) {
			continue
		}
		sub := filepath.Join(c.dir, s.Name())
		files, err := os.ReadDir(sub)
		if err != nil {
			continue
		}
		for _, f := range files {
			if info, ok := ownFile(sub, f, now); ok {
				entries = append(entries, entry{filepath.Join(sub, f.Name()), info.Size(), info.ModTime()})
				total += info.Size()
			}
		}
	}
	if total <= c.limit {
		return
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.used.Compare(b.used) })
	for _, e := range entries {
		if total <= c.limit*3/4 {
			break
		}
		if os.Remove(e.path) == nil {
			total -= e.size
		}
	}
}

// sourceRecord is what the cache remembers of a source that was checked and generated
// with nothing to report: its environments and its outputs in each environment of that
// run, in the order they were made. A rerun over the same bytes replays it without
// evaluating anything.
type Record struct {
	Envs  []string                    `json:"envs"`
	Units map[string][]RecordedOutput `json:"units"` // by environment, "" for none
	// Budgets are the environments' budgets the source sets, for the fleet checks.
	Budgets map[string]*fleetcheck.Budget `json:"budgets,omitempty"`
}

// setBudget records env's budget; a nil record records nothing.
func (r *Record) SetBudget(env string, b *fleetcheck.Budget) {
	if r == nil || b == nil {
		return
	}
	if r.Budgets == nil {
		r.Budgets = map[string]*fleetcheck.Budget{}
	}
	r.Budgets[env] = b
}

// recordedOutput is one output of a source, with what made it, for the message should
// another source make it too.
type RecordedOutput struct {
	Name   string `json:"name"`
	Data   string `json:"data"`
	Key    string `json:"key"`
	Raw    bool   `json:"raw,omitempty"`
	File   string `json:"file"`
	Offset int    `json:"offset"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Check is the key of the unit's check (see [checkKey]): a later run of the source,
	// changed elsewhere, takes Data for a daemon of this very API form without checking
	// and rendering it again.
	Check string `json:"check,omitempty"`
	// Env and Facts are the daemon's environment and what the fleet checks read of it:
	// a replayed source's daemons are checked with the rest of their environment.
	Env   string             `json:"env,omitempty"`
	Facts *fleetcheck.Daemon `json:"facts,omitempty"`
}

// Add records one output, under its environment; a nil record records nothing.
func (r *Record) Add(o RecordedOutput) {
	if r == nil {
		return
	}
	if r.Units == nil {
		r.Units = map[string][]RecordedOutput{}
	}
	r.Units[o.Env] = append(r.Units[o.Env], o)
}

// outputs returns the recorded outputs of a run over runEnvs, for a source whose own
// environments are envs, in the order a run makes them; ok is false when the record
// lacks one of the run's environments.
func (r *Record) Outputs(runEnvs, envs []string) (out []RecordedOutput, ok bool) {
	for _, env := range runEnvs {
		if len(envs) > 0 && !slices.Contains(envs, env) {
			continue
		}
		units, ok := r.Units[env]
		if !ok {
			return nil, false
		}
		out = append(out, units...)
	}
	return out, true
}

// sourceKey returns the key of a source read from files alone: the build, the schema, the
// tags, and every file's name and bytes.
func SourceKey(kind string, tags []string, files map[string][]byte) string {
	h := sha256.New()
	io.WriteString(h, cacheFormat+"\x00source\x00"+kind+"\x00"+buildIdentity()+"\x00"+schemaIdentity()+"\x00")
	field := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	for _, t := range slices.Sorted(slices.Values(tags)) {
		field(t)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		field(name)
		field(string(files[name]))
	}
	return "s" + hex.EncodeToString(h.Sum(nil))
}

// checkOnlyKey is the key of the record of a check-only run (vet) of the source whose
// record key is key.
func CheckOnlyKey(key string) string {
	h := sha256.Sum256([]byte(cacheFormat + "\x00check-only\x00" + key))
	return "s" + hex.EncodeToString(h[:])
}

// getRecord returns the verified record of key, or nil. A nil cache, or an empty key,
// has none.
func (c *Cache) GetRecord(key string) *Record {
	if c == nil || key == "" {
		return nil
	}
	data, ok := c.get(key)
	if !ok {
		return nil
	}
	var r Record
	if json.Unmarshal(data, &r) != nil || !r.valid() {
		return nil
	}
	return &r
}

// renderedShape reports whether data has the shape of a rendered output, one object:
// what an entry bound to its key and hash can still get wrong only when made by hand,
// checked without parsing every output again on every replay.
func renderedShape(data []byte) bool {
	data = bytes.TrimSuffix(data, []byte("\n"))
	return len(data) >= 2 && data[0] == '{' && data[len(data)-1] == '}'
}

// valid reports whether every output of r has an output's name and JSON content: what a
// replay hands on must be what a run could have made, whoever wrote the entry.
func (r *Record) valid() bool {
	for env, units := range r.Units {
		for _, o := range units {
			want := strings.TrimPrefix(o.Name, env+"/")
			if env != "" && want == o.Name || strings.ContainsAny(want, "/\\") || !strings.HasSuffix(want, ".json") ||
				want == ".json" || strings.HasPrefix(want, ".") || !renderedShape([]byte(o.Data)) {
				return false
			}
		}
	}
	return true
}

// putRecord remembers r for key, as the latest record of the source given as names and
// evaluated with tags.
func (c *Cache) PutRecord(key string, r *Record, names, tags []string) {
	if data, err := json.Marshal(r); err == nil {
		c.put(key, data)
		c.put(latestKey(names, tags), []byte(key))
	}
}

// latestKey is where the cache keeps the key of the latest record of a source, by what
// the source is (its folder or files, the tags, the build, the schema), whatever its bytes.
func latestKey(names, tags []string) string {
	h := sha256.New()
	io.WriteString(h, cacheFormat+"\x00latest\x00"+buildIdentity()+"\x00"+schemaIdentity()+"\x00")
	field := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	for _, t := range slices.Sorted(slices.Values(tags)) {
		field(t)
	}
	h.Write([]byte{0})
	for _, n := range names {
		field(n)
	}
	return "l" + hex.EncodeToString(h.Sum(nil))
}

// sourceKeyRE matches what sourceKey returns.
var sourceKeyRE = regexp.MustCompile(`^s[0-9a-f]{64}$`)

// latestOutputs returns the outputs of the latest record of the source given as names,
// by check key; nil when there is none.
func (c *Cache) LatestOutputs(names, tags []string) map[string]string {
	if c == nil {
		return nil
	}
	key, ok := c.read(latestKey(names, tags))
	if !ok || !sourceKeyRE.Match(key) {
		return nil
	}
	data, ok := c.read(string(key))
	var r Record
	if !ok || json.Unmarshal(data, &r) != nil || !r.valid() {
		return nil
	}
	byCheck := map[string]string{}
	for _, units := range r.Units {
		for _, o := range units {
			if o.Check != "" {
				byCheck[o.Check] = o.Data
			}
		}
	}
	return byCheck
}

// knownOutputs are the outputs a run may take instead of checking and rendering a unit
// again, by check key: from the per-daemon cache, or from the latest clean record of the
// source being generated, so that changing one daemon of a spec does not check and render
// every other. Either way the key holds everything an output depends on.
type Known struct {
	Cache *Cache // the run's cache; nil: no check keys at all
	// perDaemon is set for a source the cache remembers daemon by daemon; for one it
	// remembers whole, previous are its latest record's outputs.
	PerDaemon bool
	Previous  map[string]string
}

// enabled reports whether a unit's check key is needed.
func (k *Known) Enabled() bool { return k != nil && k.Cache != nil }

func (k *Known) Get(key string) ([]byte, bool) {
	if data, ok := k.Previous[key]; ok {
		k.Cache.reused.Add(1)
		return []byte(data), true
	}
	if k.PerDaemon {
		if data, ok := k.Cache.get(key); ok && renderedShape(data) {
			return data, true
		}
	}
	return nil, false
}

func (k *Known) Put(key string, rendered []byte) {
	if k.PerDaemon {
		k.Cache.put(key, rendered)
	}
}
