package gen

import "github.com/daemongen/daemongen/internal/cache"

// Cache remembers checks and whole sources between runs, so that a rerun checks only what
// changed (see internal/cache). A Config without one checks everything.
type Cache = cache.Cache

// MaxCacheSize bounds a cache folder, in bytes.
const MaxCacheSize = cache.MaxSize

// DefaultCacheDir returns where the cache lives: $DAEMONGEN_CACHE, or daemongen in the
// user's cache folder (os.UserCacheDir).
func DefaultCacheDir() (string, error) { return cache.DefaultDir() }

// OpenCache returns the cache in dir, which is created when first written.
func OpenCache(dir string) *Cache { return cache.Open(dir) }
