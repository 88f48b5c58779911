package server

import (
	"time"

	imapd "github.com/letterbox-mail/letterbox/server/imap"
	pop3d "github.com/letterbox-mail/letterbox/server/pop3"
)

// startMailboxes starts the mailbox-access protocols over the users'
// stores: IMAP (STARTTLS on the plain port, implicit TLS on the other) and
// POP3 (STLS, and implicit TLS).
func (s *Server) startMailboxes() error {
	cfg := s.cfg
	var appendLimit uint32
	if l := cfg.Limits.IMAPAppendLimit; l > 0 && l < 1<<32 {
		appendLimit = uint32(l)
	}
	imp := imapd.New(s.Backend, imapd.Options{TLSConfig: s.tls, InsecureAuth: cfg.Dev, AppendLimit: appendLimit,
		Limits: imapd.MailboxLimits{MaxNameBytes: cfg.Limits.MaxMailboxNameBytes, MaxDepth: cfg.Limits.MaxMailboxDepth,
			MaxMailboxes: cfg.Limits.MaxMailboxes},
		Logger: s.log.With("proto", "imap")})
	s.services = append(s.services, imp)
	if err := s.listen("imap", cfg.Listen.IMAP, false, imp); err != nil {
		return err
	}
	if err := s.listen("imaps", cfg.Listen.IMAPS, true, imp); err != nil {
		return err
	}
	pop := pop3d.New(s.Backend, pop3d.Options{Hostname: cfg.Hostname, TLSConfig: s.tls, AllowInsecureAuth: cfg.Dev,
		IdleTimeout: time.Duration(cfg.Limits.POP3IdleTimeoutSec) * time.Second, Logger: s.log.With("proto", "pop3")})
	s.services = append(s.services, pop)
	if err := s.listen("pop3", cfg.Listen.POP3, false, pop); err != nil {
		return err
	}
	return s.listen("pop3s", cfg.Listen.POP3S, true, pop)
}
