//go:build !unix

package netlimit

// DefaultMaxConns is the global cap where the limit on open files cannot
// be read: that of a 1024-descriptor limit.
func DefaultMaxConns() int { return capFor(1024) }

func isTemporary(err error) bool { return false }
