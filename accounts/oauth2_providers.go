package accounts

import (
	"context"
	"net"
	"strings"
)

// Provider is a preset for an OAuth2 identity provider that runs mail
// servers: its endpoints, the scopes that open IMAP, POP3 and SMTP, and
// its servers. No client id ships with letterbox: the user registers one
// (README, "OAuth2").
type Provider struct {
	Name                         string
	AuthURL, TokenURL, DeviceURL string
	Scopes                       []string
	RedirectHost                 string
	AuthParams                   map[string]string
	// IMAP, POP3 and SMTP are the provider's mail servers.
	IMAP, POP3, SMTP ServerConfig
	// Domains are the mail domains it hosts for everyone; MX are
	// suffixes of the MX hosts of domains it hosts for organisations.
	Domains, MX []string
	// DeviceNote, when DeviceURL is empty, says why there is no device
	// flow.
	DeviceNote string
}

// LookupProvider returns the preset named name (oauth2_provider).
func LookupProvider(name string) (Provider, bool) {
	p, ok := providers()[name]
	return p, ok
}

// providers returns the presets by oauth2_provider name, made afresh
// (no package state).
func providers() map[string]Provider {
	return map[string]Provider{
		// Google: developers.google.com/identity/protocols/oauth2/native-app
		// and developers.google.com/gmail/imap/xoauth2-protocol. Its device
		// flow does not allow the mail scope (developers.google.com/identity/
		// protocols/oauth2/limited-input-device, "Allowed scopes"), so the
		// browser flow is the one.
		ProviderGoogle: {
			Name:         ProviderGoogle,
			AuthURL:      "https://accounts.google.com/o/oauth2/auth",
			TokenURL:     "https://oauth2.googleapis.com/token",
			Scopes:       []string{"https://mail.google.com/"},
			RedirectHost: "127.0.0.1",
			AuthParams:   map[string]string{"access_type": "offline", "prompt": "consent"},
			IMAP:         ServerConfig{Host: "imap.gmail.com", Port: 993, Security: SecurityTLS},
			POP3:         ServerConfig{Host: "pop.gmail.com", Port: 995, Security: SecurityTLS},
			SMTP:         ServerConfig{Host: "smtp.gmail.com", Port: 465, Security: SecurityTLS},
			Domains:      []string{"gmail.com", "googlemail.com"},
			MX:           []string{".google.com", ".googlemail.com"},
			DeviceNote:   "Google's device flow does not allow the mail scope; sign in with --oauth2-flow browser",
		},
		// Microsoft identity platform (Entra ID), "common" tenant: personal
		// and work accounts. learn.microsoft.com/exchange/client-developer/
		// legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
		ProviderMicrosoft: {
			Name:      ProviderMicrosoft,
			AuthURL:   "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
			TokenURL:  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
			DeviceURL: "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
			Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All",
				"https://outlook.office.com/SMTP.Send", "offline_access"},
			RedirectHost: "localhost",
			IMAP:         ServerConfig{Host: "outlook.office365.com", Port: 993, Security: SecurityTLS},
			POP3:         ServerConfig{Host: "outlook.office365.com", Port: 995, Security: SecurityTLS},
			SMTP:         ServerConfig{Host: "smtp.office365.com", Port: 587, Security: SecurityStartTLS},
			Domains:      []string{"outlook.com", "hotmail.com", "live.com", "msn.com"},
			MX:           []string{".mail.protection.outlook.com"},
		},
	}
}

// OAuth2Hint says that an address signs in with OAuth2: at which
// provider (a preset name, or "" when only autoconfig said OAuth2) and
// how that was learnt.
type OAuth2Hint struct {
	Provider string
	Reason   string
}

// MXResolver looks up MX records; *net.Resolver is one. A Discoverer's
// Resolver that has LookupMX is used for it.
type MXResolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// providerForDomain returns the preset that hosts domain for everyone.
func providerForDomain(domain string) (Provider, bool) {
	for _, p := range providers() {
		for _, d := range p.Domains {
			if d == domain {
				return p, true
			}
		}
	}
	return Provider{}, false
}

// OAuth2For tells whether email should sign in with OAuth2: its domain
// is one a preset hosts (gmail.com, outlook.com, ...), or its MX hosts
// are a preset's (Microsoft 365, Google Workspace), or its autoconfig
// document lists <authentication>OAuth2</authentication>. It asks the
// network (MX, autoconfig) only for domains it does not know, each step
// within the Discoverer's timeout, and never fails: no hint is false.
func (d *Discoverer) OAuth2For(ctx context.Context, email string) (OAuth2Hint, bool) {
	domain, err := emailDomain(email)
	if err != nil {
		return OAuth2Hint{}, false
	}
	if p, ok := providerForDomain(domain); ok {
		return OAuth2Hint{Provider: p.Name, Reason: domain + " is " + providerTitle(p.Name) + "'s"}, true
	}
	if r, ok := d.resolver().(MXResolver); ok {
		lctx, cancel := context.WithTimeout(ctx, d.timeout())
		mxs, err := r.LookupMX(lctx, domain)
		cancel()
		if err == nil {
			for _, mx := range mxs {
				host := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
				for _, p := range providers() {
					for _, suffix := range p.MX {
						if strings.HasSuffix(host, suffix) {
							return OAuth2Hint{Provider: p.Name, Reason: domain + "'s mail goes to " + providerTitle(p.Name) + " (MX " + host + ")"}, true
						}
					}
				}
			}
		}
	}
	for _, u := range d.autoconfigURLs(email, domain) {
		data, err := d.fetch(ctx, u)
		if err != nil {
			continue
		}
		if auth, err := autoconfigAuth(data); err == nil {
			if auth {
				return OAuth2Hint{Reason: "its autoconfig document (" + u + ") lists OAuth2"}, true
			}
			break
		}
	}
	return OAuth2Hint{}, false
}

// providerTitle is the provider's name for people.
func providerTitle(name string) string {
	switch name {
	case ProviderGoogle:
		return "Google"
	case ProviderMicrosoft:
		return "Microsoft"
	}
	return name
}
