package server

import (
	"context"

	imapd "github.com/letterbox-mail/letterbox/server/imap"
	"github.com/letterbox-mail/letterbox/server/netlimit"
	pop3d "github.com/letterbox-mail/letterbox/server/pop3"
)

// startMailboxes starts the mailbox-access protocols over the users'
// stores: IMAP (STARTTLS on the plain port, implicit TLS on the other) and
// POP3 (STLS, and implicit TLS), each with its own per-IP count.
func (s *Server) startMailboxes(ctx context.Context, proto func(name, refusal string, perIP int) *netlimit.Protocol) error {
	cfg := s.cfg
	lim := cfg.Limits
	var appendLimit uint32
	if l := lim.IMAPAppendLimit; l > 0 && l < 1<<32 {
		appendLimit = uint32(l)
	}
	imp := imapd.New(s.Backend, imapd.Options{TLSConfig: s.tls, InsecureAuth: cfg.Dev, AppendLimit: appendLimit,
		LoginIdleTimeout: lim.LoginIdleTimeout.Duration, IdleTimeout: lim.IMAPIdleTimeout.Duration,
		Limits: imapd.MailboxLimits{MaxNameBytes: cfg.Limits.MaxMailboxNameBytes, MaxDepth: cfg.Limits.MaxMailboxDepth,
			MaxMailboxes: cfg.Limits.MaxMailboxes},
		Logger: s.log.With("proto", "imap")})
	s.services = append(s.services, imp)
	imapProto := proto("imap", "* BYE %s\r\n", lim.IMAPMaxConnsPerIP) // RFC 9051 section 7.1.5
	if err := s.listen(ctx, "imap", cfg.Listen.IMAP, imapProto, false, imp); err != nil {
		return err
	}
	if err := s.listen(ctx, "imaps", cfg.Listen.IMAPS, imapProto, true, imp); err != nil {
		return err
	}
	pop := pop3d.New(s.Backend, pop3d.Options{Hostname: cfg.Hostname, TLSConfig: s.tls, AllowInsecureAuth: cfg.Dev,
		LoginIdleTimeout: lim.LoginIdleTimeout.Duration, IdleTimeout: lim.POP3IdleTimeout.Duration,
		HandshakeTimeout: lim.HandshakeTimeout.Duration, Logger: s.log.With("proto", "pop3")})
	s.services = append(s.services, pop)
	popProto := proto("pop3", "-ERR [SYS/TEMP] %s\r\n", lim.POP3MaxConnsPerIP) // RFC 3206 section 4
	if err := s.listen(ctx, "pop3", cfg.Listen.POP3, popProto, false, pop); err != nil {
		return err
	}
	return s.listen(ctx, "pop3s", cfg.Listen.POP3S, popProto, true, pop)
}
