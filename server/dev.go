package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// DevUser is a demo account that --dev creates on first start.
type DevUser struct {
	Address, Password string
	Messages          int
	Seed              int64
}

// DevUsers are alice and bob of example.test, with sample mail.
var DevUsers = []DevUser{
	{Address: "alice@example.test", Password: "alice", Messages: 500, Seed: 1},
	{Address: "bob@example.test", Password: "bob", Messages: 100, Seed: 2},
}

// SeedDev creates the demo users and their sample mail when the data
// directory has no users yet. It reports whether it did.
func (s *Server) SeedDev(ctx context.Context) (bool, error) {
	existing, err := s.Backend.Users.List()
	if err != nil || len(existing) > 0 {
		return false, err
	}
	for _, u := range DevUsers {
		addr := u.Address
		if d := s.cfg.Domains[0]; d != "example.test" {
			addr = addr[:len(addr)-len("example.test")] + d
		}
		if err := s.Backend.Users.Add(addr, u.Password); err != nil {
			return false, err
		}
		st, err := s.Backend.Store(ctx, addr)
		if err != nil {
			return false, err
		}
		if err := seedMail(ctx, st, u); err != nil {
			return false, fmt.Errorf("seed %s: %w", addr, err)
		}
	}
	return true, nil
}

func seedMail(ctx context.Context, st *store.Store, u DevUser) error {
	tmp, err := os.MkdirTemp("", "letterbox-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "INBOX")
	if _, err := mailgen.WriteMaildir(src, mailgen.Options{Seed: u.Seed, Count: u.Messages}); err != nil {
		return err
	}
	_, err = st.Import(ctx, []string{src}, store.ImportOptions{})
	return err
}

// Banner writes what a developer needs to connect.
func (s *Server) Banner(w io.Writer) {
	fmt.Fprintf(w, "letterbox serve: %s, domains %v, data %s\n", s.cfg.Hostname, s.cfg.Domains, s.cfg.Data)
	rows := []struct{ name, what string }{
		{"smtp", "SMTP (MX, STARTTLS)"}, {"submission", "submission (STARTTLS + AUTH)"}, {"smtps", "submission (implicit TLS)"},
		{"imap", "IMAP (STARTTLS)"}, {"imaps", "IMAPS"}, {"pop3", "POP3 (STLS)"}, {"pop3s", "POP3S"},
	}
	for _, r := range rows {
		if a := s.Addr(r.name); a != nil {
			fmt.Fprintf(w, "  %-28s %s\n", r.what, a)
		}
	}
	if s.cfg.Dev {
		fmt.Fprintln(w, "  users:")
		for _, u := range DevUsers {
			addr := u.Address
			if d := s.cfg.Domains[0]; d != "example.test" {
				addr = addr[:len(addr)-len("example.test")] + d
			}
			if s.Backend.UserExists(addr) {
				fmt.Fprintf(w, "    %-24s password %q\n", addr, u.Password)
			}
		}
		fmt.Fprintln(w, "  dev mode: plain-text logins allowed on loopback without TLS")
	}
	fmt.Fprintf(w, "  certificate: %s\n", s.CertFile)
}
