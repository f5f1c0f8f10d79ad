package node

// The limits of what daemongen reads. A daemon task definition is small (ECS caps an
// ordinary task definition at 64 KiB), so each limit is far above any real spec and far
// below what would exhaust memory or time; each is checked before the expensive step that
// it protects, and reported at the offending position.
const (
	// MaxFileSize is the largest spec or JSON file, in bytes.
	MaxFileSize = 4 << 20
	// MaxDepth is the deepest nesting of structs and lists in a spec.
	MaxDepth = 64
	// MaxListLength is the longest list in a spec.
	MaxListLength = 10000
)
