package accounts

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// SRVResolver looks up DNS SRV records; *net.Resolver is one.
type SRVResolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// DefaultAutoconfigURLs returns the autoconfig locations tried in order:
// the provider's autoconfig host, then the domain's well-known path
// (Mozilla's lookup order, without plain HTTP). In these templates
// {domain} and {email} are replaced, the address query-escaped.
func DefaultAutoconfigURLs() []string {
	return []string{
		"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
		"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={email}",
	}
}

// DefaultTimeout bounds one discovery step or one probe attempt when
// Discoverer.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Discoverer finds the servers of an e-mail address (Discover) and which
// of their ports answer (Probe). Every dependency is a field so that
// tests can point it at local fakes; the zero value uses the network.
type Discoverer struct {
	// HTTP fetches autoconfig documents; nil means a client with Timeout.
	HTTP *http.Client
	// Resolver looks up SRV records; nil means net.DefaultResolver.
	Resolver SRVResolver
	// Dial opens TCP connections; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds each autoconfig fetch, SRV lookup and probe
	// attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Log, if set, receives one line per step, for progress output. It is
	// called only from the goroutine that called Discover or Probe.
	Log func(step string)
	// AutoconfigURLs are URL templates; nil means DefaultAutoconfigURLs().
	AutoconfigURLs []string
	// Ports are the ports Probe tries per protocol, in order of
	// preference; a missing protocol gets DefaultPorts.
	Ports map[Protocol][]int
	// TLS is the base client TLS configuration for probes (ServerName is
	// set per host); nil means TLS 1.2 or later with the system roots.
	TLS *tls.Config
	// Parallel bounds the probe attempts in flight; 0 means 4.
	Parallel int
	// AllowPlain lets Probe choose a port without TLS or STARTTLS when
	// nothing better answers. Off, such a port is a failed attempt.
	AllowPlain bool
}

// Discover returns candidate servers for email, most trusted first: the
// autoconfig document, then RFC 6186 SRV records, then the usual host
// names. Failed steps are logged, not returned: the guesses always give
// candidates. It fails only for a malformed address or an ended ctx.
func (d *Discoverer) Discover(ctx context.Context, email string) ([]Candidate, error) {
	domain, err := emailDomain(email)
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	var out []Candidate
	out = append(out, d.autoconfig(ctx, email, domain)...)
	out = append(out, d.srv(ctx, domain)...)
	out = append(out, guesses(domain)...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discover %s: %w", domain, err)
	}
	return dedupe(out), nil
}

// emailDomain returns the lower-cased domain of a plain address.
func emailDomain(email string) (string, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "", fmt.Errorf("%q is not an e-mail address like ann@example.com", email)
	}
	_, domain, _ := strings.Cut(addr.Address, "@")
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if !validHost(domain) || strings.HasPrefix(domain, "[") {
		return "", fmt.Errorf("%q: domain %q is not a DNS name", email, domain)
	}
	return domain, nil
}

// autoconfig fetches the first autoconfig document that parses.
func (d *Discoverer) autoconfig(ctx context.Context, email, domain string) []Candidate {
	for _, u := range d.autoconfigURLs(email, domain) {
		data, err := d.fetch(ctx, u)
		if err == nil {
			var cands []Candidate
			cands, err = ParseAutoconfig(data, email, "autoconfig "+u)
			if err == nil {
				d.logf("autoconfig %s: %d servers", u, len(cands))
				return cands
			}
		}
		d.logf("autoconfig %s: %v", u, err)
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// autoconfigURLs returns the autoconfig URLs to try for email.
func (d *Discoverer) autoconfigURLs(email, domain string) []string {
	urls := d.AutoconfigURLs
	if urls == nil {
		urls = DefaultAutoconfigURLs()
	}
	r := strings.NewReplacer("{domain}", domain, "{email}", url.QueryEscape(email))
	out := make([]string, len(urls))
	for i, tmpl := range urls {
		out[i] = r.Replace(tmpl)
	}
	return out
}

// fetch GETs u with the step timeout and a size limit.
func (d *Discoverer) fetch(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := d.HTTP
	if client == nil {
		client = &http.Client{Timeout: d.timeout()}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAutoconfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return data, nil
}

// srvService is one SRV service name and what its targets speak.
type srvService struct {
	service  string
	protocol Protocol
	security Security
}

// srvServices returns the RFC 6186 and RFC 8314 services, implicit TLS
// first.
func srvServices() []srvService {
	return []srvService{
		{"imaps", IMAP, SecurityTLS},
		{"imap", IMAP, SecurityStartTLS},
		{"pop3s", POP3, SecurityTLS},
		{"pop3", POP3, SecurityStartTLS},
		{"submissions", SMTP, SecurityTLS},
		{"submission", SMTP, SecurityStartTLS},
	}
}

// srv looks the services up concurrently and returns their targets in
// service order, each service's records by priority then weight. The log
// lines are gathered and written in service order after the lookups.
func (d *Discoverer) srv(ctx context.Context, domain string) []Candidate {
	res := d.resolver()
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	services := srvServices()
	found := make([][]Candidate, len(services))
	logs := make([][]string, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() {
			logf := func(format string, args ...any) { logs[i] = append(logs[i], fmt.Sprintf(format, args...)) }
			name := "_" + s.service + "._tcp." + domain
			_, recs, err := res.LookupSRV(ctx, s.service, "tcp", domain)
			if err != nil && len(recs) == 0 {
				var dnsErr *net.DNSError
				if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
					logf("SRV %s: none", name)
				} else {
					logf("SRV %s: %v", name, err)
				}
				return
			}
			found[i] = srvCandidates(name, s.protocol, s.security, recs, logf)
			for _, c := range found[i] {
				if h := strings.ToLower(c.Host); h != domain && !strings.HasSuffix(h, "."+domain) {
					// RFC 6186 §6: unsigned DNS can point anywhere.
					logf("SRV %s: note: %s is outside %s; make sure it is your provider's", name, c.Host, domain)
				}
			}
		})
	}
	wg.Wait()
	for _, lines := range logs {
		for _, l := range lines {
			d.logf("%s", l)
		}
	}
	return slices.Concat(found...)
}

// srvCandidates converts the records of one service. A single record
// with target "." means the service is not offered (RFC 6186 §3.4).
func srvCandidates(name string, proto Protocol, sec Security, recs []*net.SRV, logf func(string, ...any)) []Candidate {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b *net.SRV) int {
		if a.Priority != b.Priority {
			return int(a.Priority) - int(b.Priority)
		}
		return int(b.Weight) - int(a.Weight)
	})
	var out []Candidate
	for _, r := range recs {
		if r == nil {
			continue
		}
		host := strings.TrimSuffix(r.Target, ".")
		switch {
		case host == "":
			logf("SRV %s: not offered (target \".\")", name)
		case !validHost(host) || r.Port == 0:
			logf("SRV %s: ignoring bad record %q port %d", name, r.Target, r.Port)
		default:
			logf("SRV %s: %s:%d", name, host, r.Port)
			out = append(out, Candidate{Protocol: proto, Host: host, Port: int(r.Port), Security: sec, Source: "SRV " + name})
		}
	}
	return out
}

// guesses are the host names most providers use.
func guesses(domain string) []Candidate {
	hosts := map[Protocol][]string{
		IMAP: {"imap." + domain, "mail." + domain, domain},
		POP3: {"pop3." + domain, "pop." + domain, "mail." + domain, domain},
		SMTP: {"smtp." + domain, "mail." + domain, domain},
	}
	var out []Candidate
	for _, p := range []Protocol{IMAP, POP3, SMTP} {
		for _, h := range hosts[p] {
			out = append(out, Candidate{Protocol: p, Host: h, Source: "guess"})
		}
	}
	return out
}

// dedupe drops later candidates with the protocol, host and port of an
// earlier one.
func dedupe(cands []Candidate) []Candidate {
	type key struct {
		p    Protocol
		host string
		port int
	}
	seen := make(map[key]bool, len(cands))
	out := cands[:0]
	for _, c := range cands {
		k := key{c.Protocol, strings.ToLower(c.Host), c.Port}
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// resolver returns the Resolver, or net.DefaultResolver.
func (d *Discoverer) resolver() SRVResolver {
	if d.Resolver == nil {
		return net.DefaultResolver
	}
	return d.Resolver
}

func (d *Discoverer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Discoverer) logf(format string, args ...any) {
	if d.Log != nil {
		d.Log(fmt.Sprintf(format, args...))
	}
}
