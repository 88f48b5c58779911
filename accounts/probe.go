package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Endpoint is a server port that answered with the expected protocol.
type Endpoint struct {
	Host     string   // DNS name or IP address
	Port     int      // TCP port
	Security Security // tls, starttls, or none (only with AllowPlain)
}

// Addr returns "host:port".
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// String returns "host:port (security)".
func (e Endpoint) String() string { return e.Addr() + " (" + string(e.Security) + ")" }

// Attempt is the outcome of probing one host and port.
type Attempt struct {
	// Endpoint is what was tried; on success, Security is what works.
	Endpoint
	// Err is why the port was not usable; nil when it was.
	Err error
}

// String returns "host:port: reason", as shown to the user.
func (a Attempt) String() string {
	if a.Err == nil {
		return a.Addr() + ": ok (" + string(a.Security) + ")"
	}
	return a.Addr() + ": " + describe(a.Err)
}

var (
	// ErrNoServer is wrapped by the *ProbeError that Probe returns when
	// no port answered.
	ErrNoServer = errors.New("no server answered")
	// ErrWrongProtocol means a port answered with another protocol's
	// greeting.
	ErrWrongProtocol = errors.New("wrong protocol")
	// ErrNoTLS means a plain port answered but offers no STARTTLS.
	ErrNoTLS = errors.New("no STARTTLS")
)

// ProbeError lists every attempt that failed, so the user sees which
// ports were tried and why each failed.
type ProbeError struct {
	Protocol Protocol  // what was probed
	Attempts []Attempt // every attempt, in order of preference
}

// Error returns "no IMAP server answered: a:993: connection refused; … —
// try --imap HOST:PORT".
func (e *ProbeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no %s server answered", strings.ToUpper(string(e.Protocol)))
	for i, a := range e.Attempts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(a.String())
	}
	fmt.Fprintf(&b, " — try --%s HOST:PORT", e.Protocol)
	return b.String()
}

// Unwrap returns ErrNoServer.
func (e *ProbeError) Unwrap() error { return ErrNoServer }

// DefaultPorts returns the ports Probe tries for proto, in order of
// preference: implicit TLS first (RFC 8314 §3.3), then the STARTTLS
// ports; for SMTP also 25 and 2525, which some networks leave open.
func DefaultPorts(proto Protocol) []int {
	switch proto {
	case IMAP:
		return []int{993, 143}
	case POP3:
		return []int{995, 110}
	case SMTP:
		return []int{465, 587, 25, 2525}
	}
	return nil
}

// portSecurity returns the security a well-known port speaks, or "" for
// a port Probe must find out about (implicit TLS tried first).
func portSecurity(port int) Security {
	switch port {
	case 993, 995, 465:
		return SecurityTLS
	case 143, 110, 587, 25, 2525:
		return SecurityStartTLS
	}
	return ""
}

// CandidateFor parses a user's "HOST" or "HOST:PORT" (as for --imap)
// into a candidate for proto.
func CandidateFor(proto Protocol, hostport string) (Candidate, error) {
	c := Candidate{Protocol: proto, Host: hostport, Source: "command line"}
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return c, fmt.Errorf("--%s %s: %q is not a TCP port", proto, hostport, p)
		}
		c.Host, c.Port = h, port
	}
	if !validHost(c.Host) {
		return c, fmt.Errorf("--%s %s: %q is not a host name", proto, hostport, c.Host)
	}
	return c, nil
}

// plan returns the endpoints to try for proto, in order of preference:
// candidates in their order, each one's ports in DefaultPorts order (or
// the one port it names). Security is "" where Probe must find out.
func (d *Discoverer) plan(proto Protocol, cands []Candidate) []Endpoint {
	ports, ok := d.Ports[proto]
	if !ok {
		ports = DefaultPorts(proto)
	}
	seen := make(map[string]bool)
	var out []Endpoint
	for _, c := range cands {
		if c.Protocol != proto {
			continue
		}
		try := ports
		if c.Port != 0 {
			try = []int{c.Port}
		}
		for _, port := range try {
			ep := Endpoint{Host: c.Host, Port: port, Security: portSecurity(port)}
			if c.Port != 0 && c.Security != "" {
				ep.Security = c.Security
			}
			if key := strings.ToLower(ep.Addr()); !seen[key] {
				seen[key] = true
				out = append(out, ep)
			}
		}
	}
	return out
}

// Probe connects to the candidates of proto and returns the first
// endpoint, in order of preference, that greets with the protocol and
// protects the connection (implicit TLS, or STARTTLS/STLS on a plain
// port, with a verified certificate). Attempts run concurrently, at most
// Parallel at a time, but are judged and logged in preference order, so
// the answer does not depend on which server is fastest. The attempts
// judged are returned in either case; when none worked the error is a
// *ProbeError. A port without TLS is chosen only with AllowPlain, and
// only when no protected one answered.
func (d *Discoverer) Probe(ctx context.Context, cands []Candidate, proto Protocol) (Endpoint, []Attempt, error) {
	plans := d.plan(proto, cands)
	if len(plans) == 0 {
		return Endpoint{}, nil, fmt.Errorf("probe %s: no candidate servers", proto)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait() // no attempt outlives Probe
	}()
	type result struct {
		i int
		a Attempt
	}
	results := make(chan result, len(plans)) // never blocks a sender
	wg.Go(func() {
		sem := make(chan struct{}, d.parallel())
		for i, ep := range plans {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				got, err := d.attempt(ctx, proto, ep)
				if err != nil {
					got = ep
				}
				results <- result{i, Attempt{Endpoint: got, Err: err}}
			})
		}
	})

	done := make([]*Attempt, len(plans))
	var judged []Attempt
	for len(judged) < len(plans) {
		var r result
		select {
		case r = <-results:
		case <-ctx.Done():
			return Endpoint{}, judged, fmt.Errorf("probe %s: %w", proto, ctx.Err())
		}
		done[r.i] = &r.a
		for len(judged) < len(plans) && done[len(judged)] != nil {
			a := *done[len(judged)]
			judged = append(judged, a)
			d.logf("%s %s", proto, a)
			if a.Err == nil && a.Security != SecurityNone {
				return a.Endpoint, judged, nil
			}
		}
	}
	for _, a := range judged {
		if a.Err == nil { // a plain port, allowed by AllowPlain
			return a.Endpoint, judged, nil
		}
	}
	return Endpoint{}, judged, &ProbeError{Protocol: proto, Attempts: judged}
}

func (d *Discoverer) parallel() int {
	if d.Parallel > 0 {
		return d.Parallel
	}
	return 4
}

// describe shortens an attempt's error to what the user needs.
func describe(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var tlsErr *TLSError
	switch {
	case errors.As(err, &tlsErr):
		if tlsErr.Fix == "" {
			return tlsErr.What
		}
		return tlsErr.What + "; " + tlsErr.Fix
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		var se *stageError
		if errors.As(err, &se) {
			return "timeout (" + se.stage + ")"
		}
		return "timeout"
	}
	return err.Error()
}

// stageError says at which step of a probe an error happened.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }
