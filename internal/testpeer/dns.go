package testpeer

import (
	"context"
	"net"
	"strings"
)

// Zone is what one name answers in DNS. A name missing from the table is
// NXDOMAIN; a zone with Err set answers every lookup with it.
type Zone struct {
	Err  error
	A    []string // IPv4 and IPv6 addresses
	TXT  []string
	MX   []*net.MX
	PTR  []string
	Name string // CNAME-less alias: look up this name instead
}

// DNS is an in-memory DNS for tests, the stand-in for the one peer no
// test may reach: a resolver that answers from a table of zones with the
// methods of *net.Resolver the server uses (TXT, MX, addresses, PTR), so
// tests of SPF, DKIM, DMARC, MX lookup and MTA-STS never reach real DNS.
// It is shaped after github.com/foxcpp/go-mockdns's Resolver, which is
// not used because its go.mod (go 1.13, an unpruned module graph) would
// raise golang.org/x/* versions across the whole module.
//
// It answers from Zones, keyed by name (a trailing dot and case do not
// matter). The zero value answers NXDOMAIN to everything; it is safe for
// concurrent use once built.
type DNS struct {
	Zones map[string]Zone
}

func (r *DNS) zone(name string) (Zone, error) {
	key := strings.ToLower(strings.TrimSuffix(name, "."))
	for range 8 {
		z, ok := r.Zones[key]
		if !ok {
			z, ok = r.Zones[key+"."]
		}
		if !ok {
			return Zone{}, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		if z.Err != nil {
			return Zone{}, z.Err
		}
		if z.Name == "" {
			return z, nil
		}
		key = strings.ToLower(strings.TrimSuffix(z.Name, "."))
	}
	return Zone{}, &net.DNSError{Err: "alias loop", Name: name}
}

// LookupTXT returns the name's TXT records.
func (r *DNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	z, err := r.zone(name)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), z.TXT...), nil
}

// LookupMX returns the name's MX records.
func (r *DNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	z, err := r.zone(name)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, len(z.MX))
	for i, mx := range z.MX {
		c := *mx
		out[i] = &c
	}
	return out, nil
}

// LookupHost returns the name's addresses.
func (r *DNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	z, err := r.zone(host)
	if err != nil {
		return nil, err
	}
	if len(z.A) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return append([]string(nil), z.A...), nil
}

// LookupIPAddr returns the name's addresses.
func (r *DNS) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	addrs, err := r.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var out []net.IPAddr
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil {
			out = append(out, net.IPAddr{IP: ip})
		}
	}
	return out, nil
}

// LookupAddr returns the PTR names of an address, from the zone named by
// the address itself ("192.0.2.1").
func (r *DNS) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	z, err := r.zone(addr)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), z.PTR...), nil
}
