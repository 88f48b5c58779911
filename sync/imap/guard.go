package imapsync

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// guard is the net.Conn the IMAP client library (go-imap v2 imapclient)
// talks through; below it is the TLS connection, or the plain one. It
// sees every octet both ways and enforces what the library does not:
//
//   - bounds: a response's octets outside literals (maxLine, larger for
//     SEARCH-like results), each literal the server announces
//     (maxLiteral, the largest message accepted), a folder listing,
//     which the library collects in memory (maxListing octets, maxListed
//     folders), and the FETCH responses to one command (the last EXISTS
//     plus fetchSlack), which the sync keeps. Past a bound it fails
//     the connection with a Protocol error ("server line longer than 1
//     MiB: hostile or broken server"), having held at most one read
//     buffer of the excess, so a hostile server cannot exhaust memory;
//   - deadlines: the greeting must come within the connect timeout, and
//     while a reply is due the server may not stay silent longer than
//     the command timeout. A reply is due when a command was sent and
//     its tagged completion has not come, except after a continuation
//     request ("+ ..."), when the server waits for us: so a long IDLE,
//     which the server answers with "+ idling" and then only news, never
//     times out, while the reply to DONE must come in time. Every read
//     renews the deadline: a 1 GB FETCH that keeps flowing never times
//     out. The library's own deadlines are ignored (SetDeadline and the
//     like are no-ops here).
//
// The first failure is kept (failure) so that errors, which the library
// flattens into text, can name their cause.
type guard struct {
	conn net.Conn

	mu sync.Mutex
	// greetTimeout bounds the wait for the greeting, cmdTimeout the
	// silence while a reply is due; 0 means none.
	greetTimeout, cmdTimeout time.Duration
	greeted                  bool
	// pending holds the tags of commands sent and not completed.
	pending map[string]bool
	// waiting is set by a continuation request and cleared by our next
	// write: the server waits for us.
	waiting bool
	failed  error
	rd, wr  wireScan
	curTag  string // tag of the response being read
	// curList is set while a LIST or LSUB response is read; listed and
	// listedN count the octets (outside literals) and the responses of
	// the folder listing since our last LIST or LSUB command, which the
	// library collects in memory: bounded by maxListing and maxListed.
	curList         bool
	listed, listedN int64
	// exists is the last EXISTS the server sent (the selected mailbox's
	// size); curFetch is set while a FETCH response is read, counted in
	// fetched since our last command, bounded by exists + fetchSlack: a
	// FETCH answers for each message once, and the library or the sync
	// keeps what it answered for. While the server waits for us (IDLE)
	// nothing is counted.
	exists   int64
	curFetch bool
	fetched  int64
	// prefix is served before the connection's data: the stand-in
	// greeting after our own STARTTLS.
	prefix []byte
}

// guardLimits are the bounds of a guard.
type guardLimits struct {
	maxLine, maxLiteral int64
}

// Default bounds of Config.MaxLine and Config.MaxLiteral.
const (
	// DefaultMaxLine bounds a server response's octets outside literals.
	DefaultMaxLine = 1 << 20
	// DefaultMaxLiteral bounds one literal, that is one message.
	DefaultMaxLiteral = 100 << 20
	// maxListing and maxListed bound a folder listing (the LIST or LSUB
	// responses to one command): its octets outside literals, and its
	// folders.
	maxListing = 32 << 20
	maxListed  = 1 << 18
	// fetchSlack is how many more FETCH responses than the mailbox's
	// messages one command may get (messages that arrive meanwhile).
	fetchSlack = 1 << 16
	// searchLineFactor widens the bound for responses that list UIDs
	// (SEARCH, ESEARCH, SORT, THREAD): a mailbox of millions of messages
	// answers UID SEARCH ALL with a line of megabytes.
	searchLineFactor = 64
)

func newGuard(c net.Conn, lim guardLimits, greet, cmd time.Duration) *guard {
	g := &guard{conn: c, greetTimeout: greet, cmdTimeout: cmd, pending: map[string]bool{}}
	g.rd = wireScan{maxLine: lim.maxLine, maxLiteral: lim.maxLiteral, onHead: g.readHead, onEnd: g.readEnd,
		bigLine: func(head []byte) int64 {
			if _, w, _ := headTokens(head); lim.maxLine > 0 && isListing(w[0]) {
				return lim.maxLine * searchLineFactor
			}
			return 0
		}}
	g.wr = wireScan{onHead: g.writeHead}
	return g
}

// isListing reports the responses that list message numbers.
func isListing(name string) bool {
	switch name {
	case "SEARCH", "ESEARCH", "SORT", "THREAD":
		return true
	}
	return false
}

// readHead notes the tag of a response (mu held); a continuation
// request means the server waits for us.
func (g *guard) readHead(head []byte) {
	tag, w, _ := headTokens(head)
	g.curTag = tag
	g.curList = tag == "*" && (w[0] == "LIST" || w[0] == "LSUB")
	g.curFetch = tag == "*" && w[1] == "FETCH" && !g.waiting
	if tag == "*" && w[1] == "EXISTS" {
		if n, err := strconv.ParseInt(w[0], 10, 64); err == nil {
			g.exists = n
		}
	}
	if tag == "+" {
		g.waiting = true
	}
}

// readEnd completes a tagged command, and counts a folder listing's
// response of octets octets against its bounds (mu held).
func (g *guard) readEnd(octets int64) error {
	g.greeted = true
	if g.curTag != "*" && g.curTag != "+" {
		delete(g.pending, g.curTag)
	}
	if g.curFetch {
		g.fetched++
		if g.fetched > g.exists+fetchSlack {
			return &wireError{fmt.Sprintf("more FETCH responses than the mailbox's %d messages: hostile or broken server", g.exists)}
		}
	}
	if g.curList {
		g.listed += octets
		g.listedN++
		switch {
		case g.listed > maxListing:
			return &wireError{fmt.Sprintf("folder listing longer than %s: hostile or broken server", size(maxListing))}
		case g.listedN > maxListed:
			return &wireError{fmt.Sprintf("folder listing of more than %d folders: hostile or broken server", maxListed)}
		}
	}
	return nil
}

// writeHead registers the tag of a command we send (mu held): a line
// whose first word is followed by a space ("DONE" and SASL responses
// are not).
func (g *guard) writeHead(head []byte) {
	tag, w, sp := headTokens(head)
	if sp && tag != "" && tag != "*" && tag != "+" {
		g.pending[tag] = true
		g.fetched = 0
		if w[0] == "LIST" || w[0] == "LSUB" {
			g.listed, g.listedN = 0, 0
		}
	}
}

// due reports whether a reply is due and the deadline for it (mu held).
func (g *guard) due() (time.Duration, bool) {
	switch {
	case !g.greeted:
		return g.greetTimeout, g.greetTimeout > 0
	case len(g.pending) > 0 && !g.waiting:
		return g.cmdTimeout, g.cmdTimeout > 0
	}
	return 0, false
}

// setCommandTimeout changes the inactivity bound (after login).
func (g *guard) setCommandTimeout(d time.Duration) {
	g.mu.Lock()
	g.cmdTimeout = d
	g.mu.Unlock()
}

// failure returns the guard's first failure: a bound broken, a timeout.
func (g *guard) failure() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failed
}

func (g *guard) fail(err error) error {
	if g.failed == nil {
		g.failed = err
	}
	return g.failed
}

// Read reads from the connection with the deadline in force and follows
// what it read.
func (g *guard) Read(p []byte) (int, error) {
	g.mu.Lock()
	if g.failed != nil {
		defer g.mu.Unlock()
		return 0, g.failed
	}
	if len(g.prefix) > 0 {
		n := copy(p, g.prefix)
		g.prefix = g.prefix[n:]
		err := g.rd.feed(p[:n])
		g.mu.Unlock()
		return n, err
	}
	d, timed := g.due()
	greeting := !g.greeted
	if timed {
		g.conn.SetReadDeadline(time.Now().Add(d))
	} else {
		g.conn.SetReadDeadline(time.Time{})
	}
	g.mu.Unlock()

	n, err := g.conn.Read(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	if n > 0 {
		if ferr := g.rd.feed(p[:n]); ferr != nil {
			g.conn.Close()
			return 0, g.fail(ferr)
		}
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// Set only while a reply was due; reads alone end a wait.
		d, _ := g.due()
		if greeting {
			err = lbsync.Timeout("no greeting within", d)
		} else {
			err = lbsync.Timeout("server silent for", d)
		}
		g.conn.Close()
		return n, g.fail(err)
	}
	return n, err
}

// Write follows what is sent (a command makes a reply due), renews the
// read deadline when a reply is now due, and writes with the inactivity
// deadline, in pieces so that each has its own.
func (g *guard) Write(p []byte) (int, error) {
	g.mu.Lock()
	if g.failed != nil {
		defer g.mu.Unlock()
		return 0, g.failed
	}
	out := p
	g.wr.feed(out)
	g.waiting = false
	d, timed := g.due()
	if timed {
		g.conn.SetReadDeadline(time.Now().Add(d))
	}
	wd := g.cmdTimeout
	if !g.greeted {
		wd = g.greetTimeout
	}
	g.mu.Unlock()

	const piece = 64 << 10
	for len(out) > 0 {
		n := min(len(out), piece)
		if wd > 0 {
			g.conn.SetWriteDeadline(time.Now().Add(wd))
		}
		if _, err := g.conn.Write(out[:n]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				g.mu.Lock()
				err = g.fail(lbsync.Timeout("server not reading for", wd))
				g.mu.Unlock()
				g.conn.Close()
			}
			return 0, err
		}
		out = out[n:]
	}
	return len(p), nil
}

// Close closes the connection.
func (g *guard) Close() error { return g.conn.Close() }

// LocalAddr and the rest of net.Conn pass through; deadlines are ours.
func (g *guard) LocalAddr() net.Addr                { return g.conn.LocalAddr() }
func (g *guard) RemoteAddr() net.Addr               { return g.conn.RemoteAddr() }
func (g *guard) SetDeadline(time.Time) error        { return nil }
func (g *guard) SetReadDeadline(time.Time) error    { return nil }
func (g *guard) SetWriteDeadline(t time.Time) error { return nil }
