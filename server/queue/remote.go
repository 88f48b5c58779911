package queue

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// sendDomain delivers to the recipients of one domain: MX hosts in
// preference order (RFC 5321 section 5.1), the domain's own address when
// it has no MX, every address of a host before the next host. The
// domain's MTA-STS policy (mtasts.go) limits the hosts and requires
// verified TLS in enforce mode; without a policy STARTTLS is used when
// offered, unverified.
func (q *Queue) sendDomain(ctx context.Context, it *Item, domain string, rcpts []string) map[string]result {
	all := func(r result) map[string]result {
		m := map[string]result{}
		for _, rc := range rcpts {
			m[rc] = r
		}
		return m
	}
	hosts, err := q.mxHosts(ctx, domain)
	if err != nil {
		var perm *permError
		if errors.As(err, &perm) {
			return all(result{perm: true, msg: err.Error()})
		}
		return all(result{temp: true, msg: err.Error()})
	}
	pol := tlsOpportunistic
	if sts := q.sts.policy(ctx, domain); sts != nil && sts.Mode != stsNone {
		pol = tlsSTSTesting
		if sts.Mode == stsEnforce {
			pol = tlsSTSEnforce
		}
		var ok []string
		for _, h := range hosts {
			if sts.matches(h) {
				ok = append(ok, h)
			} else {
				q.log.Warn("queue mx not in the MTA-STS policy", "id", it.ID, "domain", domain, "host", h, "mode", sts.Mode)
			}
		}
		if pol.require {
			if len(ok) == 0 {
				return all(result{temp: true, msg: fmt.Sprintf("MTA-STS (enforce): no MX host of %s matches its policy %v", domain, sts.MX)})
			}
			hosts = ok
		}
	}
	q.log.Info("queue tls policy", "id", it.ID, "domain", domain, "policy", pol.name)
	lastErr := errors.New("no mail exchanger answered")
	for _, host := range hosts {
		addrs, err := q.opts.Resolver.LookupHost(ctx, host)
		if err != nil {
			lastErr = fmt.Errorf("look up %s: %w", host, err)
			continue
		}
		for _, addr := range addrs {
			res, err := q.sendTo(ctx, it, host, net.JoinHostPort(addr, q.opts.Port), rcpts, pol)
			if err == nil {
				return res
			}
			lastErr = fmt.Errorf("%s [%s]: %w", host, addr, err)
			q.log.Info("queue connect failed", "id", it.ID, "host", host, "addr", addr, "err", err)
		}
	}
	return all(result{temp: true, msg: lastErr.Error()})
}

type permError struct{ msg string }

func (e *permError) Error() string { return e.msg }

func (q *Queue) mxHosts(ctx context.Context, domain string) ([]string, error) {
	mxs, err := q.opts.Resolver.LookupMX(ctx, domain)
	var dnsErr *net.DNSError
	switch {
	case err == nil && len(mxs) > 0:
		if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
			return nil, &permError{fmt.Sprintf("%s does not accept mail (null MX, RFC 7505)", domain)}
		}
		sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
		hosts := make([]string, 0, len(mxs))
		for _, mx := range mxs {
			hosts = append(hosts, strings.TrimSuffix(mx.Host, "."))
		}
		return hosts, nil
	case err == nil, errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// No MX: the domain itself is the implicit MX (RFC 5321 section 5.1).
		if _, aerr := q.opts.Resolver.LookupHost(ctx, domain); aerr != nil {
			if errors.As(aerr, &dnsErr) && dnsErr.IsNotFound {
				return nil, &permError{fmt.Sprintf("domain %s has no MX and no address", domain)}
			}
			return nil, fmt.Errorf("look up %s: %w", domain, aerr)
		}
		return []string{domain}, nil
	default:
		return nil, fmt.Errorf("MX lookup %s: %w", domain, err)
	}
}

// sendTo runs one SMTP transaction. A returned error means the host could
// not be used (connection, greeting, TLS): try the next one. Replies to
// MAIL, RCPT and DATA are per-recipient results.
func (q *Queue) sendTo(ctx context.Context, it *Item, host, addr string, rcpts []string, pol tlsPolicy) (map[string]result, error) {
	conn, err := q.opts.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	c, tlsState, err := q.hello(conn, host, pol, it.ID)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	conn.SetDeadline(time.Time{})
	out := map[string]result{}
	fail := func(err error, rc ...string) {
		r := result{temp: true, msg: host + ": " + err.Error()}
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			msg := fmt.Sprintf("%s: %d %d.%d.%d %s", host, se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
			r = result{perm: se.Code >= 500, temp: se.Code < 500, msg: msg}
		}
		for _, x := range rc {
			out[x] = r
		}
	}
	// A message that came with SMTPUTF8 goes on with it; to a next hop
	// without it only if its addresses and header are ASCII after all,
	// else it is returned (RFC 6531 section 3.2).
	utf8 := false
	if it.UTF8 {
		if ok, _ := c.Extension("SMTPUTF8"); ok {
			utf8 = true
		} else if q.needsUTF8(it, rcpts) {
			fail(&smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
				Message: "the server does not support SMTPUTF8 (RFC 6531), which this message needs"}, rcpts...)
			c.Quit()
			return out, nil
		}
	}
	if err := c.Mail(it.From, &smtp.MailOptions{Size: it.Size, UTF8: utf8}); err != nil {
		fail(err, rcpts...)
		return out, nil
	}
	var accepted []string
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			fail(err, r)
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		c.Quit()
		return out, nil
	}
	if err := q.data(c, it); err != nil {
		fail(err, accepted...)
		return out, nil
	}
	msg := "250 OK (" + tlsState + ")"
	for _, r := range accepted {
		out[r] = result{msg: host + ": " + msg}
	}
	c.Quit()
	return out, nil
}

func (q *Queue) data(c *smtp.Client, it *Item) error {
	f, err := os.Open(q.MessagePath(it.ID))
	if err != nil {
		return fmt.Errorf("queued message: %w", err)
	}
	defer f.Close()
	w, err := c.Data()
	if err != nil {
		return err
	}
	if q.opts.Sign != nil {
		err = q.opts.Sign(f, w)
	} else {
		_, err = io.Copy(w, f)
	}
	if err != nil {
		w.Close()
		return fmt.Errorf("send data: %w", err)
	}
	return w.Close()
}

// hello reads the greeting, says EHLO and starts TLS when the server
// offers it, then hands the connection to a go-smtp client, and says
// which TLS it got. Without a policy the certificate is not verified (MX
// hosts rarely have one valid for their name); under MTA-STS it must be
// valid for host, and in enforce mode a host without STARTTLS or with a
// bad certificate is not used. go-smtp's client can only start TLS
// before EHLO with our name, hence the first steps by hand.
func (q *Queue) hello(conn net.Conn, host string, pol tlsPolicy, id string) (*smtp.Client, string, error) {
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, "", fmt.Errorf("greeting: %w", err)
	}
	if err := tp.PrintfLine("EHLO %s", q.opts.Hostname); err != nil {
		return nil, "", err
	}
	_, ext, err := tp.ReadResponse(250)
	if err != nil {
		return nil, "", fmt.Errorf("EHLO: %w", err)
	}
	var rw net.Conn = conn
	var pending io.Reader = tp.R // bytes already buffered
	state := "no TLS"
	starttls := false
	for _, line := range strings.Split(ext, "\n") {
		starttls = starttls || strings.EqualFold(strings.TrimSpace(line), "STARTTLS")
	}
	switch {
	case starttls:
		if err := tp.PrintfLine("STARTTLS"); err != nil {
			return nil, "", err
		}
		if _, _, err := tp.ReadResponse(220); err != nil {
			return nil, "", fmt.Errorf("STARTTLS: %w", err)
		}
		// Verified by hand below, so that testing mode can go on.
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		if err := tc.Handshake(); err != nil {
			return nil, "", fmt.Errorf("TLS handshake: %w", err)
		}
		rw, pending, state = tc, nil, "TLS"
		if pol.verify {
			if err := verifyPeer(tc.ConnectionState(), host, q.opts.TLSRoots); err != nil {
				if pol.require {
					return nil, "", fmt.Errorf("%s: certificate: %w", pol.name, err)
				}
				q.log.Warn("queue tls would fail under MTA-STS enforce", "id", id, "host", host, "err", err)
			} else {
				state = "TLS verified"
			}
		}
	case pol.require:
		return nil, "", fmt.Errorf("%s: %s does not offer STARTTLS", pol.name, host)
	case pol.verify:
		q.log.Warn("queue tls would fail under MTA-STS enforce", "id", id, "host", host, "err", "no STARTTLS")
	}
	q.log.Info("queue tls", "id", id, "host", host, "policy", pol.name, "tls", state)
	// The go-smtp client expects a greeting; give it one, then it says
	// EHLO again (allowed at any time, RFC 5321 section 4.1.4).
	pc := &prefixConn{Conn: rw, r: io.MultiReader(strings.NewReader("220 resumed\r\n"), readerOrConn(pending, rw))}
	c := smtp.NewClient(pc)
	if err := c.Hello(q.opts.Hostname); err != nil {
		return nil, "", fmt.Errorf("EHLO: %w", err)
	}
	return c, state, nil
}

// verifyPeer checks the server's certificate chain against roots (the
// system's when nil) and host (RFC 8461 section 4.2).
func verifyPeer(cs tls.ConnectionState, host string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter})
	return err
}

// needsUTF8 reports whether a message flagged SMTPUTF8 has a non-ASCII
// address among from and rcpts, or a non-ASCII header.
func (q *Queue) needsUTF8(it *Item, rcpts []string) bool {
	if !isASCII(it.From) {
		return true
	}
	for _, r := range rcpts {
		if !isASCII(r) {
			return true
		}
	}
	h, err := originalHeader(q.MessagePath(it.ID))
	return err != nil || !isASCII(string(h))
}

func readerOrConn(buffered io.Reader, c net.Conn) io.Reader {
	if br, ok := buffered.(*bufio.Reader); ok && br.Buffered() > 0 {
		return io.MultiReader(io.LimitReader(br, int64(br.Buffered())), c)
	}
	return c
}

// prefixConn reads from r (a prefix, then the connection).
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }
