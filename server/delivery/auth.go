package delivery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
)

// Resolver is the DNS the inbound checks use; *net.Resolver is one, and
// tests hand in a stub. It is the resolver of blitiri.com.ar/go/spf.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Inbound configures the sender authentication of mail from
// unauthenticated clients (the MX port): SPF (RFC 7208), DKIM (RFC 6376)
// and DMARC (RFC 7489), recorded in an Authentication-Results field (RFC
// 8601) on every delivered copy.
type Inbound struct {
	// Off turns the checks off; forged results are still removed.
	Off bool
	// DMARCReject refuses (550 5.7.1) mail that fails DMARC when the
	// sender's domain asks for p=reject (pct=100); otherwise such mail is
	// only marked.
	DMARCReject bool
	// CheckLoopback checks clients on loopback too (tests); by default
	// mail injected locally is not checked.
	CheckLoopback bool
	// Resolver is net.DefaultResolver when nil.
	Resolver Resolver
	// Timeout bounds all the checks of one message; 20 s.
	Timeout time.Duration
}

// verdict is the outcome of the inbound checks.
type verdict struct {
	header string // the Authentication-Results field, CRLF-ended
	reject bool   // DMARC fails and the policy says reject
	dmarc  string // the DMARC result, for the log
}

// authenticate runs the checks on a message from an unauthenticated
// client. It never fails: a DNS problem is a temperror result.
func (d *Deliverer) authenticate(ctx context.Context, env smtpd.Envelope, sp *spool) verdict {
	in := d.opts.Inbound
	ctx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	res := in.Resolver
	var results []authres.Result

	// SPF of the MAIL FROM domain, or of the HELO name for a bounce
	// (RFC 7208 section 2.4).
	ip := remoteIP(env.Remote)
	helo := headerSafe(env.Helo)
	spfRes, _ := spf.CheckHostWithSender(ip, helo, env.From, spf.WithResolver(res), spf.WithContext(ctx))
	spfDomain := domainOf(env.From)
	spfAR := &authres.SPFResult{Value: authres.ResultValue(spfRes), From: env.From}
	if env.From == "" {
		spfDomain = strings.ToLower(helo)
		spfAR.From, spfAR.Helo = "", helo
	}
	results = append(results, spfAR)

	// DKIM: every signature, at most 5.
	var dkimPass []string
	verifs, err := dkim.VerifyWithOptions(sp.Reader(), &dkim.VerifyOptions{MaxVerifications: 5,
		LookupTXT: func(name string) ([]string, error) { return res.LookupTXT(ctx, name) }})
	switch {
	case err != nil && len(verifs) == 0:
		results = append(results, &authres.DKIMResult{Value: authres.ResultPermError, Reason: oneLine(err.Error())})
	case len(verifs) == 0:
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, v := range verifs {
		r := &authres.DKIMResult{Value: authres.ResultPass, Domain: v.Domain, Identifier: v.Identifier}
		switch {
		case v.Err == nil:
			dkimPass = append(dkimPass, strings.ToLower(v.Domain))
		case dkim.IsTempFail(v.Err):
			r.Value, r.Reason = authres.ResultTempError, oneLine(v.Err.Error())
		case dkim.IsPermFail(v.Err):
			r.Value, r.Reason = authres.ResultPermError, oneLine(v.Err.Error())
		default:
			r.Value, r.Reason = authres.ResultFail, oneLine(v.Err.Error())
		}
		results = append(results, r)
	}

	// DMARC of the From domain.
	out := verdict{}
	fromDomain, ferr := headerFromDomain(sp.Reader())
	dm := &authres.DMARCResult{From: fromDomain}
	switch {
	case ferr != nil:
		dm.Value, dm.Reason = authres.ResultPermError, ferr.Error()
	default:
		rec, recDomain, err := lookupDMARC(ctx, res, fromDomain)
		switch {
		case errors.Is(err, dmarc.ErrNoPolicy):
			dm.Value = authres.ResultNone
		case err != nil && dmarc.IsTempFail(err):
			dm.Value, dm.Reason = authres.ResultTempError, oneLine(err.Error())
		case err != nil:
			dm.Value, dm.Reason = authres.ResultPermError, oneLine(err.Error())
		case aligned(fromDomain, spfDomain, rec.SPFAlignment) && spfRes == spf.Pass,
			anyAligned(fromDomain, dkimPass, rec.DKIMAlignment):
			dm.Value = authres.ResultPass
		default:
			dm.Value = authres.ResultFail
			policy := rec.Policy
			if recDomain != fromDomain && rec.SubdomainPolicy != "" {
				policy = rec.SubdomainPolicy
			}
			dm.Reason = "p=" + string(policy)
			full := rec.Percent == nil || *rec.Percent >= 100
			out.reject = in.DMARCReject && policy == dmarc.PolicyReject && full
		}
	}
	results = append(results, dm)
	out.dmarc = string(dm.Value)
	out.header = foldAR("Authentication-Results: " + authres.Format(d.opts.Hostname, results))
	return out
}

// lookupDMARC finds the policy of domain, or of its organizational domain
// (RFC 7489 section 6.6.3).
func lookupDMARC(ctx context.Context, res Resolver, domain string) (*dmarc.Record, string, error) {
	opts := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) { return res.LookupTXT(ctx, name) }}
	rec, err := dmarc.LookupWithOptions(domain, opts)
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org := orgDomain(domain); org != domain {
			rec, err := dmarc.LookupWithOptions(org, opts)
			return rec, org, err
		}
	}
	return rec, domain, err
}

// aligned reports whether an authenticated domain is aligned with the
// From domain (RFC 7489 section 3.1): the same name in strict mode, the
// same organizational domain in relaxed mode (the default).
func aligned(from, domain string, mode dmarc.AlignmentMode) bool {
	if domain == "" {
		return false
	}
	if strings.EqualFold(from, domain) {
		return true
	}
	return mode != dmarc.AlignmentStrict && orgDomain(from) == orgDomain(domain)
}

func anyAligned(from string, domains []string, mode dmarc.AlignmentMode) bool {
	for _, d := range domains {
		if aligned(from, d, mode) {
			return true
		}
	}
	return false
}

// orgDomain is the organizational domain: the public suffix plus one
// label.
func orgDomain(domain string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(strings.TrimSuffix(domain, ".")))
	if err != nil {
		return strings.ToLower(domain)
	}
	return org
}

// headerFromDomain returns the domain of the message's one From address
// (RFC 7489 section 6.6.1).
func headerFromDomain(r io.Reader) (string, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(r))
	if err != nil {
		return "", errors.New("unreadable header")
	}
	from := h.Values("From")
	if len(from) != 1 {
		return "", fmt.Errorf("%d From fields", len(from))
	}
	list, err := mail.ParseAddressList(from[0])
	if err != nil || len(list) != 1 {
		return "", errors.New("From is not one address")
	}
	d := domainOf(list[0].Address)
	if d == "" {
		return "", errors.New("From has no domain")
	}
	return d, nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

func remoteIP(a net.Addr) net.IP {
	if a == nil {
		return nil
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		host = a.String()
	}
	return net.ParseIP(host)
}

func isLoopback(a net.Addr) bool {
	ip := remoteIP(a)
	return ip != nil && ip.IsLoopback()
}

// oneLine makes a reason safe inside a header field.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(headerSafe(s), ";", ",")), " ")
}

// foldAR folds an Authentication-Results field before each result so
// its lines stay short, and ends it with CRLF.
func foldAR(field string) string {
	field = strings.TrimRight(strings.ReplaceAll(field, " ; ", "; "), " ")
	return strings.ReplaceAll(field, "; ", ";\r\n\t") + "\r\n"
}
