package netlimit

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultLogEvery         = 10 * time.Second
)

// Options configure a Limiter. Zero values select the defaults.
type Options struct {
	// MaxConns is the global cap on open connections;
	// DefaultMaxConns() when zero or negative.
	MaxConns int
	// HandshakeTimeout bounds the TLS handshake on implicit-TLS
	// listeners, from accept to the end of the handshake;
	// DefaultHandshakeTimeout when zero.
	HandshakeTimeout time.Duration
	// LogEvery is the least time between two Warn records about refused
	// or evicted connections; DefaultLogEvery when zero. Each one counts
	// the connections refused since the last.
	LogEvery time.Duration
	// Logger receives the refusal records; discarded when nil.
	Logger *slog.Logger
}

// Limiter is the global connection count of a process, shared by all its
// listeners. Its methods are safe for concurrent use.
type Limiter struct {
	opts Options
	log  *slog.Logger

	mu   sync.Mutex
	open int
	// Connections not logged in yet, by remote IP, with each IP filed
	// under its number of such connections, so that the heaviest is
	// found in constant time.
	pending    map[string]*pendingIP
	buckets    map[int]map[*pendingIP]struct{}
	maxBucket  int
	nPending   int
	refused    int // since the last Warn record
	evicted    int // since the last Warn record
	lastLog    time.Time
	lastReason string
}

// pendingIP is the list, oldest first, of one IP's connections that have
// not logged in.
type pendingIP struct {
	ip         string
	head, tail *Conn
	n          int
}

// New returns a Limiter.
func New(opts Options) *Limiter {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns()
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.LogEvery <= 0 {
		opts.LogEvery = DefaultLogEvery
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{opts: opts, log: opts.Logger,
		pending: map[string]*pendingIP{}, buckets: map[int]map[*pendingIP]struct{}{}}
}

// MaxConns returns the global cap in force.
func (l *Limiter) MaxConns() int { return l.opts.MaxConns }

// Open returns the number of connections counted now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Pending returns the number of counted connections that have not logged
// in.
func (l *Limiter) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nPending
}

// ProtocolOptions configure a Protocol.
type ProtocolOptions struct {
	// Name is the protocol's name in logs ("imap").
	Name string
	// MaxConnsPerIP is the cap on connections from one IP (one /64 for
	// IPv6) to the protocol's listeners together; none when zero.
	MaxConnsPerIP int
	// ExemptLoopback lifts the per-IP cap for loopback addresses.
	ExemptLoopback bool
	// Refusal is the reply written on a plain listener to a connection
	// that is refused, with %s standing for the reason
	// ("* BYE %s\r\n"); nothing is written when empty.
	Refusal string
}

// Protocol is the per-IP count of one protocol's listeners (IMAP on 143
// and 993, say), within a Limiter.
type Protocol struct {
	lim   *Limiter
	opts  ProtocolOptions
	perIP map[string]int // guarded by lim.mu
}

// Protocol returns a new per-IP count within l.
func (l *Limiter) Protocol(opts ProtocolOptions) *Protocol {
	return &Protocol{lim: l, opts: opts, perIP: map[string]int{}}
}

// Reasons of a refusal, in the reply and in logs.
const (
	reasonPerIP = "Too many connections from your address, try again later"
	reasonBusy  = "Too many connections, try again later"
)

// admit counts raw in, or refuses and closes it (returning nil). To make
// room under the global cap it may evict an older connection.
func (p *Protocol) admit(raw net.Conn, implicitTLS bool) *Conn {
	l := p.lim
	ip, loopback := hostIP(raw.RemoteAddr())
	perIP := p.opts.MaxConnsPerIP > 0 && !(p.opts.ExemptLoopback && loopback)
	now := time.Now()
	l.mu.Lock()
	if perIP && p.perIP[ip] >= p.opts.MaxConnsPerIP {
		l.mu.Unlock()
		p.refuse(raw, implicitTLS, ip, reasonPerIP, now)
		return nil
	}
	var victim *Conn
	if l.open >= l.opts.MaxConns {
		victim = l.victimLocked()
		if victim == nil {
			l.mu.Unlock()
			p.refuse(raw, implicitTLS, ip, reasonBusy, now)
			return nil
		}
		l.releaseLocked(victim)
	}
	c := &Conn{Conn: raw, proto: p, ip: ip, perIP: perIP}
	l.open++
	if perIP {
		p.perIP[ip]++
	}
	l.pushPendingLocked(c)
	var logNow bool
	if victim != nil {
		l.evicted++
		logNow = l.dueLocked(now, "evicted "+victim.proto.opts.Name+" connection of "+victim.ip+" that had not logged in")
	}
	n, e, reason := l.refused, l.evicted, l.lastReason
	if logNow {
		l.refused, l.evicted = 0, 0
	}
	l.mu.Unlock()
	if victim != nil {
		victim.Conn.Close() // its session sees the error and calls Close
		l.log.Debug("connection evicted", "proto", victim.proto.opts.Name, "remote", victim.ip, "for", ip)
		if logNow {
			l.log.Warn("connection limit reached", "max", l.opts.MaxConns, "refused", n, "evicted", e, "last", reason)
		}
	}
	return c
}

// refuse closes a refused connection at once, after a short reply on
// plain listeners; the new socket's send buffer is empty, so the write
// does not wait.
func (p *Protocol) refuse(raw net.Conn, implicitTLS bool, ip, reason string, now time.Time) {
	if p.opts.Refusal != "" && !implicitTLS {
		raw.SetWriteDeadline(now.Add(time.Second))
		fmt.Fprintf(raw, p.opts.Refusal, reason)
	}
	raw.Close()
	l := p.lim
	l.mu.Lock()
	l.refused++
	logNow := l.dueLocked(now, p.opts.Name+" "+ip+": "+reason)
	n, e, last := l.refused, l.evicted, l.lastReason
	if logNow {
		l.refused, l.evicted = 0, 0
	}
	l.mu.Unlock()
	l.log.Debug("connection refused", "proto", p.opts.Name, "remote", ip, "reason", reason)
	if logNow {
		l.log.Warn("connections refused", "max", l.opts.MaxConns, "refused", n, "evicted", e, "last", last)
	}
}

// dueLocked records the latest reason and reports whether a Warn record
// is due.
func (l *Limiter) dueLocked(now time.Time, reason string) bool {
	l.lastReason = reason
	if now.Sub(l.lastLog) < l.opts.LogEvery {
		return false
	}
	l.lastLog = now
	return true
}

// victimLocked picks the connection to evict: the oldest one not logged
// in of an IP with the most such connections. It returns nil when every
// connection has logged in.
func (l *Limiter) victimLocked() *Conn {
	for pip := range l.buckets[l.maxBucket] {
		return pip.head
	}
	return nil
}

// releaseLocked uncounts c, once.
func (l *Limiter) releaseLocked(c *Conn) {
	if c.released {
		return
	}
	c.released = true
	l.open--
	if c.perIP {
		if n := c.proto.perIP[c.ip] - 1; n > 0 {
			c.proto.perIP[c.ip] = n
		} else {
			delete(c.proto.perIP, c.ip)
		}
	}
	l.popPendingLocked(c)
}

// pushPendingLocked files c as not logged in, newest of its IP.
func (l *Limiter) pushPendingLocked(c *Conn) {
	pip := l.pending[c.ip]
	if pip == nil {
		pip = &pendingIP{ip: c.ip}
		l.pending[c.ip] = pip
	}
	c.pip, c.prev, c.next = pip, pip.tail, nil
	if pip.tail != nil {
		pip.tail.next = c
	} else {
		pip.head = c
	}
	pip.tail = c
	l.moveLocked(pip, pip.n, pip.n+1)
	pip.n++
	l.nPending++
}

// popPendingLocked removes c from the connections not logged in, if it is
// there.
func (l *Limiter) popPendingLocked(c *Conn) {
	pip := c.pip
	if pip == nil {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		pip.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		pip.tail = c.prev
	}
	c.pip, c.prev, c.next = nil, nil, nil
	l.moveLocked(pip, pip.n, pip.n-1)
	pip.n--
	l.nPending--
	if pip.n == 0 {
		delete(l.pending, pip.ip)
	}
}

// moveLocked files pip under its new count. Counts change by one, so
// when the heaviest bucket empties, the next one down is not empty.
func (l *Limiter) moveLocked(pip *pendingIP, from, to int) {
	if b := l.buckets[from]; b != nil {
		delete(b, pip)
		if len(b) == 0 {
			delete(l.buckets, from)
			if from == l.maxBucket && to < from {
				l.maxBucket = to
			}
		}
	}
	if to > 0 {
		b := l.buckets[to]
		if b == nil {
			b = map[*pendingIP]struct{}{}
			l.buckets[to] = b
		}
		b[pip] = struct{}{}
		l.maxBucket = max(l.maxBucket, to)
	}
}

// hostIP returns the key a remote address is counted under: its IPv4
// address, or the /64 network of an IPv6 one (one subscriber's allocation,
// which an attacker can spread connections over), and whether it is a
// loopback address.
func hostIP(a net.Addr) (string, bool) {
	var ip net.IP
	switch t := a.(type) {
	case *net.TCPAddr:
		ip = t.IP
	case nil:
		return "", false
	default:
		h, _, err := net.SplitHostPort(a.String())
		if err != nil {
			h = a.String()
		}
		if ip = net.ParseIP(h); ip == nil {
			return h, false
		}
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String(), ip.IsLoopback()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64", ip.IsLoopback()
}

// capFor is the global cap under a limit of nofile open files: three
// quarters of it, with at least 256 descriptors left over, and at least 16.
func capFor(nofile int) int {
	return max(16, min(nofile*3/4, nofile-256))
}
