package cache

// The cache's internals that its tests, in package cache_test, reach.
var (
	BuildIdentity  = &buildIdentity
	SchemaIdentity = &schemaIdentity
	EntryHeader    = entryHeader
	HexSum         = hexSum
)

// EntryMagic starts every entry the cache writes.
const EntryMagic = entryMagic

// SetLimit bounds the cache folder to n bytes, for a test that fills it.
func (c *Cache) SetLimit(n int64) { c.limit = n }

// Limit is the most bytes the cache folder may hold.
func (c *Cache) Limit() int64 { return c.limit }

// Read returns the verified entry of key, as a check would find it.
func (c *Cache) Read(key string) ([]byte, bool) { return c.read(key) }

// Put writes an entry, as a check or a source's record would.
func (c *Cache) Put(key string, data []byte) { c.put(key, data) }
