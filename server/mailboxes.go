package server

import (
	"time"

	pop3d "github.com/letterbox-mail/letterbox/server/pop3"
)

// startMailboxes starts the mailbox-access protocols over the users'
// stores: POP3 (plain with STLS, and implicit TLS).
func (s *Server) startMailboxes() error {
	cfg := s.cfg
	pop := pop3d.New(s.Backend, pop3d.Options{Hostname: cfg.Hostname, TLSConfig: s.tls, AllowInsecureAuth: cfg.Dev,
		IdleTimeout: time.Duration(cfg.Limits.POP3IdleTimeoutSec) * time.Second, Logger: s.log.With("proto", "pop3")})
	s.services = append(s.services, pop)
	if err := s.listen("pop3", cfg.Listen.POP3, false, pop); err != nil {
		return err
	}
	return s.listen("pop3s", cfg.Listen.POP3S, true, pop)
}
