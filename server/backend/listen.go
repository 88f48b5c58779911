package backend

import (
	"net"
	"sync"
)

// ListenerTags hands settings of a listener (such as "no password logins
// here") to the sessions of its connections, for protocol servers that
// serve several listeners. Tag records the listener's address; Of finds
// a connection's listener by its local address: the same address, or the
// same port of a listener on the unspecified address (":993"). Nothing
// is kept per connection (SMTP sessions begin at EHLO, or never) and
// connections are not wrapped, so a *tls.Conn stays one.
type ListenerTags[T any] struct {
	mu     sync.Mutex
	byAddr map[string]T // "ip:port" of listeners on one address
	byPort map[string]T // port of listeners on the unspecified address
}

// Tag records v for the connections of l, and returns l.
func (t *ListenerTags[T]) Tag(l net.Listener, v T) net.Listener {
	a, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return l
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byAddr == nil {
		t.byAddr, t.byPort = map[string]T{}, map[string]T{}
	}
	if a.IP == nil || a.IP.IsUnspecified() {
		t.byPort[portOf(a)] = v
	} else {
		t.byAddr[a.String()] = v
	}
	return l
}

// Of returns the tag of c's listener; the zero T for an untagged one.
func (t *ListenerTags[T]) Of(c net.Conn) T {
	var zero T
	a, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok {
		return zero
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.byAddr[a.String()]; ok {
		return v
	}
	if v, ok := t.byPort[portOf(a)]; ok {
		return v
	}
	return zero
}

func portOf(a *net.TCPAddr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}
