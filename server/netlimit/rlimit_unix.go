//go:build unix

package netlimit

import (
	"errors"
	"syscall"
)

// DefaultMaxConns is the global cap derived from the soft limit on open
// files (RLIMIT_NOFILE, which the Go runtime raises to the hard limit at
// start): three quarters of it, leaving at least 256 descriptors for the
// stores (SQLite databases, their WAL files, Maildir files), the queue and
// the listeners. 768 when the limit cannot be read.
func DefaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return capFor(1024)
	}
	n := rl.Cur
	if n > 1<<30 { // RLIM_INFINITY and friends
		n = 1 << 30
	}
	return capFor(int(n))
}

// isTemporary reports accept errors that pass: a connection reset before
// it was accepted, or running out of descriptors or memory.
func isTemporary(err error) bool {
	return errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EMFILE) ||
		errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
