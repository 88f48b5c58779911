package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	imapd "github.com/letterbox-mail/letterbox/server/imap"
)

// Config is the daemon's configuration: a TOML file (docs/server.toml is
// the annotated example), then flags on top.
type Config struct {
	// Hostname is the server's name in greetings, Received fields and
	// bounces.
	Hostname string `toml:"hostname"`
	// Domains are the local mail domains; the first is the default for
	// logins without a domain.
	Domains []string `toml:"domains"`
	// Data is the data directory (users, stores, queue, TLS in dev mode).
	Data string `toml:"data"`
	// Dev is development mode: loopback listeners on high ports, a
	// self-signed certificate, demo users, plain-text logins on loopback.
	Dev bool `toml:"dev"`

	Listen Listen `toml:"listen"`
	TLS    struct {
		Cert string `toml:"cert"`
		Key  string `toml:"key"`
	} `toml:"tls"`
	Limits Limits `toml:"limits"`
	Queue  struct {
		// RetryWindow is how long undeliverable mail is retried
		// ("120h").
		RetryWindow duration `toml:"retry_window"`
	} `toml:"queue"`
	Inbound Inbound `toml:"inbound"`
	// Auth and OAuth2 are the login methods: passwords (on by default,
	// off per listener) and OAuth2 bearer tokens (auth.go).
	Auth   AuthConfig   `toml:"auth"`
	OAuth2 OAuth2Config `toml:"oauth2"`
	DKIM   struct {
		// Domain and Selector name the key; KeyFile is its PEM file
		// (see `letterbox serve dkim keygen`).
		Domain   string `toml:"domain"`
		Selector string `toml:"selector"`
		KeyFile  string `toml:"key_file"`
	} `toml:"dkim"`
}

// Listen holds the listener addresses; an empty one is disabled.
type Listen struct {
	SMTP       string `toml:"smtp"`
	Submission string `toml:"submission"`
	SMTPS      string `toml:"smtps"`
	IMAP       string `toml:"imap"`
	IMAPS      string `toml:"imaps"`
	POP3       string `toml:"pop3"`
	POP3S      string `toml:"pop3s"`
}

// Inbound is the sender authentication of mail on the MX port: SPF, DKIM
// and DMARC, recorded in an Authentication-Results field.
type Inbound struct {
	// SkipAuth turns the checks off.
	SkipAuth bool `toml:"skip_auth"`
	// DMARCReject refuses (550 5.7.1) mail failing DMARC whose domain
	// publishes p=reject; otherwise it is only marked.
	DMARCReject bool `toml:"dmarc_reject"`
}

// Limits are the abuse and resource limits (the [limits] table). Zero
// values select the defaults, which Finish fills in.
type Limits struct {
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	MaxRecipients   int   `toml:"max_recipients"`
	MessagesPerHour int   `toml:"messages_per_hour"`
	RejectBareLF    bool  `toml:"reject_bare_lf"`
	IMAPAppendLimit int64 `toml:"imap_append_limit"`

	// MaxConnections caps the open connections of all listeners
	// together, counted before the TLS handshake; 3/4 of the open-file
	// limit (RLIMIT_NOFILE) when zero, and never more.
	MaxConnections int `toml:"max_connections"`
	// MaxConnsPerIP caps the connections from one IP to each SMTP
	// service (MX, submission); IMAPMaxConnsPerIP and POP3MaxConnsPerIP
	// to IMAP and POP3.
	MaxConnsPerIP     int `toml:"max_conns_per_ip"`
	IMAPMaxConnsPerIP int `toml:"imap_max_conns_per_ip"`
	POP3MaxConnsPerIP int `toml:"pop3_max_conns_per_ip"`
	// ExemptLoopback lifts the per-IP caps for loopback clients; false
	// unless set, except in dev mode.
	ExemptLoopback *bool `toml:"exempt_loopback"`
	// HandshakeTimeout bounds a TLS handshake (implicit TLS, STARTTLS,
	// STLS); at most 30 s.
	HandshakeTimeout duration `toml:"handshake_timeout"`
	// LoginIdleTimeout is the idle timeout before login (IMAP, POP3,
	// SMTP submission).
	LoginIdleTimeout duration `toml:"login_idle_timeout"`
	// SMTPIdleTimeout, IMAPIdleTimeout and POP3IdleTimeout are the
	// idle timeouts after login (and on the MX port throughout).
	SMTPIdleTimeout duration `toml:"smtp_idle_timeout"`
	IMAPIdleTimeout duration `toml:"imap_idle_timeout"`
	POP3IdleTimeout duration `toml:"pop3_idle_timeout"`
	// POP3IdleTimeoutSec is the older spelling of POP3IdleTimeout.
	POP3IdleTimeoutSec int `toml:"pop3_idle_timeout_seconds"`

	// MaxAuthFailures failed logins from one IP to one account within
	// AuthFailureWindow lock that account out for that IP until the
	// window passes. AuthMaxDelay caps the delay an IP with failed
	// logins waits for each answer.
	MaxAuthFailures   int      `toml:"max_auth_failures"`
	AuthFailureWindow duration `toml:"auth_failure_window"`
	AuthMaxDelay      duration `toml:"auth_max_delay"`

	// MaxMailboxNameBytes, MaxMailboxDepth and MaxMailboxes bound the
	// mailboxes a user may make over IMAP; imapd's defaults when 0.
	MaxMailboxNameBytes int `toml:"max_mailbox_name_bytes"`
	MaxMailboxDepth     int `toml:"max_mailbox_depth"`
	MaxMailboxes        int `toml:"max_mailboxes"`
}

// Default limits.
const (
	DefaultMaxConnsPerIP     = 20
	DefaultIMAPMaxConnsPerIP = 50
	DefaultPOP3MaxConnsPerIP = 20
	DefaultHandshakeTimeout  = 30 * time.Second
	DefaultLoginIdleTimeout  = 30 * time.Second
	// DefaultSMTPIdleTimeout is RFC 5321 section 4.5.3.2.7's server
	// timeout.
	DefaultSMTPIdleTimeout = 5 * time.Minute
	// DefaultIMAPIdleTimeout is the least RFC 9051 section 5.4 allows
	// after login; IDLE clients renew every 29 minutes (RFC 2177).
	DefaultIMAPIdleTimeout = 30 * time.Minute
	// DefaultPOP3IdleTimeout is the least RFC 1939 section 3 allows.
	DefaultPOP3IdleTimeout   = 10 * time.Minute
	DefaultMaxAuthFailures   = 10
	DefaultAuthFailureWindow = 10 * time.Minute
	DefaultAuthMaxDelay      = 4 * time.Second
	// MaxHandshakeTimeout is the most handshake_timeout may be.
	MaxHandshakeTimeout = 30 * time.Second
)

// finish fills in the defaults and checks the limits.
func (l *Limits) finish(dev bool) error {
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *duration, d time.Duration) {
		if v.Duration <= 0 {
			v.Duration = d
		}
	}
	setInt(&l.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setInt(&l.IMAPMaxConnsPerIP, DefaultIMAPMaxConnsPerIP)
	setInt(&l.POP3MaxConnsPerIP, DefaultPOP3MaxConnsPerIP)
	setInt(&l.MaxAuthFailures, DefaultMaxAuthFailures)
	setInt(&l.MaxMailboxNameBytes, imapd.DefaultMaxNameBytes)
	setInt(&l.MaxMailboxDepth, imapd.DefaultMaxDepth)
	setInt(&l.MaxMailboxes, imapd.DefaultMaxMailboxes)
	if l.ExemptLoopback == nil {
		l.ExemptLoopback = &dev
	}
	if l.POP3IdleTimeout.Duration <= 0 && l.POP3IdleTimeoutSec > 0 {
		l.POP3IdleTimeout.Duration = time.Duration(l.POP3IdleTimeoutSec) * time.Second
	}
	setDur(&l.HandshakeTimeout, DefaultHandshakeTimeout)
	setDur(&l.LoginIdleTimeout, DefaultLoginIdleTimeout)
	setDur(&l.SMTPIdleTimeout, DefaultSMTPIdleTimeout)
	setDur(&l.IMAPIdleTimeout, DefaultIMAPIdleTimeout)
	setDur(&l.POP3IdleTimeout, DefaultPOP3IdleTimeout)
	setDur(&l.AuthFailureWindow, DefaultAuthFailureWindow)
	setDur(&l.AuthMaxDelay, DefaultAuthMaxDelay)
	if l.HandshakeTimeout.Duration > MaxHandshakeTimeout {
		return fmt.Errorf("config: limits.handshake_timeout %v is over %v", l.HandshakeTimeout.Duration, MaxHandshakeTimeout)
	}
	if l.MaxConnections < 0 {
		return fmt.Errorf("config: limits.max_connections %d is negative", l.MaxConnections)
	}
	return nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

// ProductionListen are the standard ports on all addresses.
var ProductionListen = Listen{SMTP: ":25", Submission: ":587", SMTPS: ":465", IMAP: ":143", IMAPS: ":993", POP3: ":110", POP3S: ":995"}

// DevListen are the development ports, loopback only.
var DevListen = Listen{SMTP: "127.0.0.1:2525", Submission: "127.0.0.1:2587", SMTPS: "127.0.0.1:2465",
	IMAP: "127.0.0.1:2143", IMAPS: "127.0.0.1:2993", POP3: "127.0.0.1:2110", POP3S: "127.0.0.1:2995"}

// LoadConfig reads a TOML file; unknown keys are an error, so a typo does
// not silently leave a default in place.
func LoadConfig(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("config %s: unknown key %q", path, und[0].String())
	}
	return &c, nil
}

// Finish fills defaults (dev or production) and checks the result.
func (c *Config) Finish() error {
	def := ProductionListen
	if c.Dev {
		def = DevListen
		if len(c.Domains) == 0 {
			c.Domains = []string{"example.test"}
		}
		if c.Hostname == "" {
			c.Hostname = "mail.example.test"
		}
	}
	fill := func(v *string, d string) {
		if *v == "" {
			*v = d
		} else if *v == "-" || *v == "off" {
			*v = ""
		}
	}
	fill(&c.Listen.SMTP, def.SMTP)
	fill(&c.Listen.Submission, def.Submission)
	fill(&c.Listen.SMTPS, def.SMTPS)
	fill(&c.Listen.IMAP, def.IMAP)
	fill(&c.Listen.IMAPS, def.IMAPS)
	fill(&c.Listen.POP3, def.POP3)
	fill(&c.Listen.POP3S, def.POP3S)
	if c.Dev {
		// Dev mode allows plain-text logins; keep it off the network.
		for _, a := range []string{c.Listen.SMTP, c.Listen.Submission, c.Listen.SMTPS, c.Listen.IMAP, c.Listen.IMAPS, c.Listen.POP3, c.Listen.POP3S} {
			if a != "" && !isLoopback(a) {
				return fmt.Errorf("config: dev mode listens on loopback only, not %q", a)
			}
		}
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("config: hostname: %w", err)
		}
		c.Hostname = h
	}
	if len(c.Domains) == 0 {
		return fmt.Errorf("config: no domains (set domains = [\"example.org\"])")
	}
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
	if c.Data == "" {
		return fmt.Errorf("config: no data directory (--data or data = \"...\")")
	}
	abs, err := filepath.Abs(c.Data)
	if err != nil {
		return err
	}
	c.Data = abs
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fmt.Errorf("config: tls cert and key go together")
	}
	if c.TLS.Cert == "" && !c.Dev {
		return fmt.Errorf("config: a TLS certificate is required outside --dev (tls.cert, tls.key or --tls-cert/--tls-key)")
	}
	if err := c.finishAuth(); err != nil {
		return err
	}
	return c.Limits.finish(c.Dev)
}
