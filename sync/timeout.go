package sync

import (
	"fmt"
	"os"
	"time"
)

// Default deadlines of the three protocol clients (sync/imap, sync/pop3,
// sync/submit); the account configuration may set others.
const (
	// DefaultConnectTimeout bounds each step of setting up a connection:
	// the TCP connect, the TLS handshake, the server's greeting.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultCommandTimeout is how long a server may stay silent while a
	// reply is due. It is an inactivity bound, renewed by every byte that
	// arrives, so a long download that keeps flowing never times out.
	DefaultCommandTimeout = 60 * time.Second
)

// Timeouts are the deadlines of one connection, as the account sets
// them. A zero field takes the default; a negative one turns that
// deadline off.
type Timeouts struct {
	// Connect bounds the TCP connect, the TLS handshake and the wait for
	// the greeting, each (DefaultConnectTimeout).
	Connect time.Duration
	// Command bounds the server's silence while a reply is due
	// (DefaultCommandTimeout).
	Command time.Duration
}

// ConnectOr returns the connect timeout: t.Connect, the default when
// zero, 0 (none) when negative.
func (t Timeouts) ConnectOr() time.Duration { return pick(t.Connect, DefaultConnectTimeout) }

// CommandOr returns the inactivity timeout: t.Command, the default when
// zero, 0 (none) when negative.
func (t Timeouts) CommandOr() time.Duration { return pick(t.Command, DefaultCommandTimeout) }

func pick(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// TimeoutError is a wait for the server that ran out of time. Its message
// says what was awaited ("no greeting within 30s", "server silent for
// 60s"); wrapped in an *Error it reads "imap connect
// mail.example.com:993 timed out: no greeting within 30s". It is
// Temporary (a timeout is a network failure), and errors.Is matches it
// with os.ErrDeadlineExceeded.
type TimeoutError struct {
	// Wait describes what did not happen in time, in words that take the
	// duration after them: "no greeting within", "server silent for".
	Wait string
	// After is the deadline that passed.
	After time.Duration
}

// Timeout returns a *TimeoutError.
func Timeout(wait string, after time.Duration) *TimeoutError {
	return &TimeoutError{Wait: wait, After: after}
}

// Error says what timed out: "no greeting within 30s".
func (e *TimeoutError) Error() string { return e.Wait + " " + Seconds(e.After) }

// Timeout reports true: this is a timeout (net.Error).
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true (net.Error).
func (e *TimeoutError) Temporary() bool { return true }

// Is matches os.ErrDeadlineExceeded, which a net.Conn deadline returns,
// and ErrTemporary.
func (e *TimeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded || Temporary.Matches(target)
}

// Seconds formats a timeout as people write it: "30s", "1.5s", "2m",
// "250ms".
func Seconds(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d >= time.Second:
		return fmt.Sprintf("%gs", d.Seconds())
	}
	return d.String()
}
