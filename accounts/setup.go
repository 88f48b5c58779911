package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Configure finds working servers for a new account: it discovers
// candidates for email, probes the incoming protocol (IMAP for
// ModeIMAP, POP3 for ModePOP3; for "" IMAP, then POP3 if no IMAP server
// answers) and SMTP, and returns the account with those endpoints and
// the login the autoconfig document gave, if any. overrides are the
// servers the user named (see CandidateFor); a protocol with an override
// is probed only there, and discovery is skipped when every protocol
// needed has one. The password is not tested: TestLogin does that
// (FindServers and AddAccount chain the two).
func (d *Discoverer) Configure(ctx context.Context, name, email string, mode Mode, overrides ...Candidate) (AccountConfig, error) {
	acct := AccountConfig{Name: name, Email: email, Mode: mode}
	if err := validName(name); err != nil {
		return acct, fmt.Errorf("configure: %w", err)
	}
	if _, err := emailDomain(email); err != nil {
		return acct, fmt.Errorf("configure %s: %w", name, err)
	}
	incoming := []Protocol{IMAP, POP3}
	switch mode {
	case ModeIMAP:
		incoming = incoming[:1]
	case ModePOP3:
		incoming = incoming[1:]
	case "":
	default:
		return acct, fmt.Errorf(`configure %s: mode %q: want "imap" or "pop3"`, name, mode)
	}
	needed := append(slices.Clone(incoming[:1]), SMTP)
	var discovered []Candidate
	if slices.ContainsFunc(needed, func(p Protocol) bool { return !hasProtocol(overrides, p) }) {
		var err error
		if discovered, err = d.Discover(ctx, email); err != nil {
			return acct, fmt.Errorf("configure %s: %w", name, err)
		}
	}
	candidates := func(p Protocol) []Candidate {
		if hasProtocol(overrides, p) {
			return overrides
		}
		return discovered
	}

	var errs []error
	found := false
	for _, p := range incoming {
		ep, _, err := d.Probe(ctx, candidates(p), p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = true
		acct.Mode = Mode(p)
		if p == IMAP {
			acct.IMAP = ServerConfig(ep)
		} else {
			acct.POP3 = ServerConfig(ep)
		}
		acct.Login = loginFor(candidates(p), p, ep, email)
		break
	}
	if !found {
		return acct, fmt.Errorf("configure %s: %w", name, errors.Join(errs...))
	}
	ep, _, err := d.Probe(ctx, candidates(SMTP), SMTP)
	if err != nil {
		return acct, fmt.Errorf("configure %s: %w", name, err)
	}
	acct.SMTP = ServerConfig(ep)
	if err := acct.Validate(); err != nil {
		return acct, fmt.Errorf("configure: %w", err)
	}
	return acct, nil
}

// hasProtocol reports whether some candidate is for p.
func hasProtocol(cands []Candidate, p Protocol) bool {
	return slices.ContainsFunc(cands, func(c Candidate) bool { return c.Protocol == p })
}

// loginFor returns the user name a candidate for ep gave, or "" when it
// gave none or the address itself (the default login).
func loginFor(cands []Candidate, p Protocol, ep Endpoint, email string) string {
	for _, c := range cands {
		if c.Protocol == p && c.Host == ep.Host && (c.Port == 0 || c.Port == ep.Port) && c.Username != "" {
			if c.Username == email {
				return ""
			}
			return c.Username
		}
	}
	return ""
}
