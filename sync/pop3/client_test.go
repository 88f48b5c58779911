package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// dialFake starts f and logs in to it as u/p with cfg's other settings.
func dialFake(t *testing.T, f *fake, cfg Config) (*Client, error) {
	t.Helper()
	cfg.Addr = f.start(t)
	if cfg.Login == "" {
		cfg.Login, cfg.Password = "u", "p"
	}
	if cfg.Security == "" {
		cfg.Security = SecurityNone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// checkKind asserts that err has a kind, and is not both temporary and
// permanent.
func checkKind(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if lbsync.KindOf(err) == lbsync.Other {
		t.Errorf("error %q has no kind", err)
	}
	if errors.Is(err, lbsync.ErrTemporary) && errors.Is(err, lbsync.ErrPermanent) {
		t.Errorf("error %q is both temporary and permanent", err)
	}
}

func TestDial(t *testing.T) {
	srvTLS, cliTLS := testCert(t)
	long := strings.Repeat("p", 300)
	tests := []struct {
		name string
		fake *fake
		cfg  Config
		want []string // commands the server saw
		err  error
		temp bool
	}{
		{"AUTH PLAIN when offered", &fake{capa: defaultCapa}, Config{},
			[]string{"CAPA", "AUTH PLAIN " + plainResp("u", "p"), "CAPA"}, nil, false},
		{"USER and PASS without CAPA", &fake{}, Config{},
			[]string{"CAPA", "USER u", "PASS p"}, nil, false},
		{"USER and PASS without SASL PLAIN", &fake{capa: []string{"UIDL", "USER"}}, Config{},
			[]string{"CAPA", "USER u", "PASS p", "CAPA"}, nil, false},
		{"STLS, capabilities again, AUTH", &fake{capa: defaultCapa, tls: srvTLS}, Config{Security: SecurityStartTLS, TLS: cliTLS},
			[]string{"CAPA", "STLS", "CAPA", "AUTH PLAIN " + plainResp("u", "p"), "CAPA"}, nil, false},
		{"STLS required but not offered", &fake{capa: defaultCapa}, Config{Security: SecurityStartTLS, TLS: cliTLS},
			[]string{"CAPA"}, ErrNoTLS, false},
		{"STLS required, no CAPA, refused", &fake{}, Config{Security: SecurityStartTLS, TLS: cliTLS},
			[]string{"CAPA", "STLS"}, ErrNoTLS, false},
		{"reply injected after STLS", &fake{capa: defaultCapa, tls: srvTLS, inject: "+OK logged in\r\n"}, Config{Security: SecurityStartTLS, TLS: cliTLS},
			[]string{"CAPA", "STLS"}, lbsync.ErrPermanent, false}, // lbsync.ErrProtocol, or a TLS error if it came late
		{"implicit TLS", &fake{capa: defaultCapa, tls: srvTLS, implicit: true}, Config{Security: SecurityTLS, TLS: cliTLS},
			[]string{"CAPA", "AUTH PLAIN " + plainResp("u", "p"), "CAPA"}, nil, false},
		{"untrusted certificate", &fake{capa: defaultCapa, tls: srvTLS, implicit: true}, Config{Security: SecurityTLS},
			nil, lbsync.ErrPermanent, false},
		{"long credentials: AUTH without initial response", &fake{capa: defaultCapa}, Config{Login: "u", Password: long},
			[]string{"CAPA", "AUTH PLAIN", plainResp("u", long), "CAPA"}, nil, false},
		{"mailbox in use", &fake{capa: defaultCapa, login: "-ERR [IN-USE] Mailbox is locked"}, Config{},
			[]string{"CAPA", "AUTH PLAIN " + plainResp("u", "p")}, ErrInUse, true},
		{"wrong password", &fake{capa: defaultCapa, login: "-ERR [AUTH] Authentication failed."}, Config{},
			[]string{"CAPA", "AUTH PLAIN " + plainResp("u", "p")}, lbsync.ErrAuth, false},
		{"wrong password, no code", &fake{login: "-ERR no"}, Config{},
			[]string{"CAPA", "USER u", "PASS p"}, lbsync.ErrAuth, false},
		{"server trouble at login", &fake{capa: defaultCapa, login: "-ERR [SYS/TEMP] database down"}, Config{},
			[]string{"CAPA", "AUTH PLAIN " + plainResp("u", "p")}, lbsync.ErrTemporary, true},
		{"greeting refuses", &fake{greeting: "-ERR [SYS/TEMP] overloaded"}, Config{}, nil, lbsync.ErrTemporary, true},
		{"not POP3", &fake{greeting: "* OK IMAP4rev1 ready"}, Config{}, nil, lbsync.ErrProtocol, false},
		{"line break in password", &fake{}, Config{Login: "u", Password: "p\r\nDELE 1"}, nil, lbsync.ErrPermanent, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake
			c, err := dialFake(t, f, tc.cfg)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			checkKind(t, err)
			if err != nil && lbsync.IsTemporary(err) != tc.temp {
				t.Errorf("lbsync.IsTemporary(%v) = %v", err, !tc.temp)
			}
			if err == nil {
				if err := c.Quit(context.Background()); err != nil {
					t.Fatal(err)
				}
				tc.want = append(tc.want, "QUIT")
			}
			f.wait(t) // the fake records on its own goroutine
			if got := f.commands(); !slices.Equal(got, tc.want) {
				t.Errorf("commands %q, want %q", got, tc.want)
			}
		})
	}
}

// The last guard: even if the security setting were bypassed, login
// refuses a connection without TLS.
func TestLoginRefusesCleartext(t *testing.T) {
	c := &Client{cfg: Config{Security: SecurityStartTLS}}
	if err := c.login(context.Background()); !errors.Is(err, ErrInsecure) || lbsync.IsTemporary(err) {
		t.Fatalf("login without TLS: %v", err)
	}
}

func TestRetrCorners(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 100<<10/16) // 100 KiB on one line
	f := &fake{capa: defaultCapa, msgs: []string{
		"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\n...\r\nend\r\n",
		"Subject: long\r\n\r\n" + long + "\r\n." + long + "\r\n",
		"Subject: bare LF\r\n\r\nx\r\n",
		"Subject: only a dot line\r\n\r\n.\r\n",
	}, wire: map[int]string{3: "Subject: bare LF\n\nline one\n.dotted\n\n.\n"}}
	c, err := dialFake(t, f, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := []string{f.msgs[0], f.msgs[1], "Subject: bare LF\r\n\r\nline one\r\ndotted\r\n\r\n", f.msgs[3]}
	for i, w := range want {
		rc, err := c.Retr(ctx, i+1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil || string(got) != w {
			t.Errorf("RETR %d: %q, %v; want %q", i+1, clip(string(got)), err, clip(w))
		}
	}
	// A body left half read is discarded by the next command.
	rc, err := c.Top(ctx, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(rc, make([]byte, 10))
	if n, size, err := c.Stat(ctx); err != nil || n != 4 || size != 400 {
		t.Fatalf("STAT after a half-read body: %d %d %v", n, size, err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 4 || list[1] != (MessageInfo{Num: 2, Size: int64(len(f.msgs[1]))}) {
		t.Fatalf("LIST: %v %v", list, err)
	}
	uids, err := c.UIDL(ctx)
	if err != nil || len(uids) != 4 || uids[3] != (UID{Num: 4, ID: "uid-4"}) {
		t.Fatalf("UIDL: %v %v", uids, err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRetrTruncated(t *testing.T) {
	f := &fake{capa: defaultCapa, msgs: []string{"a\r\n"}, wire: map[int]string{1: "Subject: x\r\n\r\nhalf a li"}}
	c, err := dialFake(t, f, Config{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Retr(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !lbsync.IsTemporary(err) {
		t.Fatalf("truncated body: %q, %v", got, err)
	}
	if err := c.Noop(context.Background()); !lbsync.IsTemporary(err) {
		t.Fatalf("command after a broken connection: %v", err)
	}
}

func TestNoUIDL(t *testing.T) {
	c, err := dialFake(t, &fake{capa: []string{"USER"}, noUIDL: true}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UIDL(context.Background()); !errors.Is(err, ErrNoUIDL) || lbsync.IsTemporary(err) {
		t.Fatalf("UIDL: %v", err)
	}
}

func TestContextAndTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		cancel  bool
		check   func(error) bool
	}{
		{"cancelled", time.Minute, true, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"idle timeout", 200 * time.Millisecond, false, lbsync.IsTemporary},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{capa: defaultCapa, stall: true}
			addr := f.start(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(200*time.Millisecond, cancel)
			}
			start := time.Now()
			_, err := Dial(ctx, Config{Addr: addr, Security: SecurityNone, Login: "u", Password: "p", Timeout: tc.timeout})
			if !tc.check(err) {
				t.Fatalf("err %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

func TestDialFailures(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		temp bool
	}{
		{"refused", refused, true},
		{"no route", &net.DNSError{Err: "no such host", Name: "pop.example.test", IsNotFound: true}, true},
		{"certificate", &tls.CertificateVerificationError{Err: errors.New("bad")}, false},
	}
	for _, tc := range tests {
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) { return nil, tc.err }
		_, err := Dial(context.Background(), Config{Addr: "pop.example.test:995", Dial: dial, Login: "u", Password: "p"})
		if err == nil || lbsync.IsTemporary(err) != tc.temp || !errors.Is(err, tc.err) {
			t.Errorf("%s: %v (temporary %v)", tc.name, err, lbsync.IsTemporary(err))
		}
		checkKind(t, err)
	}
}
