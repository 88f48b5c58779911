package submit

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

func TestSend(t *testing.T) {
	msg := testMessage("me@example.org", "ann@example.com", "", "hello")
	tests := []struct {
		name    string
		be      *backend
		mode    string
		change  func(s *Server)
		rcpts   []string
		wantTLS bool
		// Expected failure; nil stage means success.
		stage     string
		code      int
		temporary bool
		is        error
	}{
		{name: "implicit tls, auth plain", be: &backend{login: "me", password: "pw"}, mode: modeTLS, wantTLS: true},
		{name: "starttls, auth plain", be: &backend{login: "me", password: "pw"}, mode: modeStartTLS, wantTLS: true},
		{name: "plain, no auth", be: &backend{}, mode: modePlain},
		{name: "plain, auth plain", be: &backend{login: "me", password: "pw"}, mode: modePlain},
		{name: "auth login only", be: &backend{login: "me", password: "pw", mechs: []string{sasl.Login}}, mode: modeStartTLS, wantTLS: true},
		{
			name: "starttls required but not offered", be: &backend{login: "me", password: "pw"}, mode: modePlain,
			change: func(s *Server) { s.Security = SecurityStartTLS },
			stage:  StageTLS, is: ErrNoStartTLS,
		},
		{
			name: "wrong password", be: &backend{login: "me", password: "pw"}, mode: modeTLS,
			change: func(s *Server) { s.Password = "wrong" },
			stage:  StageAuth, code: 535, is: lbsync.ErrAuth,
		},
		{
			name: "no usable mechanism", be: &backend{login: "me", password: "pw", mechs: []string{"CRAM-MD5"}}, mode: modeTLS,
			stage: StageAuth, is: ErrNoAuth,
		},
		{
			name: "untrusted certificate", be: &backend{}, mode: modeTLS,
			change: func(s *Server) { s.TLS = nil },
			stage:  StageTLS,
		},
		{
			name: "tls spoken to a plain port", be: &backend{}, mode: modePlain,
			change: func(s *Server) { s.Security = SecurityTLS },
			stage:  StageTLS,
		},
		{
			name: "452 on rcpt is temporary", mode: modePlain,
			be:    &backend{rcptErr: map[string]error{"ann@example.com": &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}}},
			stage: StageRcpt, code: 452, temporary: true,
		},
		{
			name: "550 on rcpt is permanent", mode: modePlain,
			be:    &backend{rcptErr: map[string]error{"ann@example.com": &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}}},
			stage: StageRcpt, code: 550,
		},
		{
			name: "554 on data is permanent", mode: modePlain,
			be:    &backend{dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "looks like spam"}},
			stage: StageData, code: 554,
		},
		{name: "connection dropped in data", mode: modePlain, be: &backend{dropData: true}, stage: StageData, temporary: true},
		{
			name: "dial refused", be: &backend{}, mode: modePlain,
			change: func(s *Server) { s.Dial = refusedDial },
			stage:  StageConnect, temporary: true,
		},
		{name: "no recipients", be: &backend{}, mode: modePlain, rcpts: []string{}, stage: StageRcpt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.be, tt.mode)
			if tt.change != nil {
				tt.change(&srv)
			}
			rcpts := tt.rcpts
			if rcpts == nil {
				rcpts = []string{"ann@example.com", "bob@example.net"}
			}
			err := Send(context.Background(), srv, "me@example.org", rcpts, strings.NewReader(msg))
			got := tt.be.delivered()
			if tt.stage == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if len(got) != 1 {
					t.Fatalf("server got %d messages, want 1", len(got))
				}
				d := got[0]
				if d.from != "me@example.org" || strings.Join(d.rcpts, ",") != strings.Join(rcpts, ",") {
					t.Errorf("envelope %s -> %v", d.from, d.rcpts)
				}
				if string(d.data) != msg {
					t.Errorf("data = %q, want %q", d.data, msg)
				}
				if d.size != int64(len(msg)) {
					t.Errorf("SIZE = %d, want %d", d.size, len(msg))
				}
				if d.tls != tt.wantTLS || d.user != tt.be.login {
					t.Errorf("tls %v user %q, want %v %q", d.tls, d.user, tt.wantTLS, tt.be.login)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Send error = %v (%T), want *Error", err, err)
			}
			if e.Stage != tt.stage || e.Code != tt.code || (e.Kind == lbsync.Temporary) != tt.temporary || lbsync.IsTemporary(err) != tt.temporary {
				t.Errorf("error %q: stage %q code %d temporary %v; want %q %d %v", err, e.Stage, e.Code, (e.Kind == lbsync.Temporary), tt.stage, tt.code, tt.temporary)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if tt.is != lbsync.ErrAuth && errors.Is(err, lbsync.ErrAuth) {
				t.Errorf("errors.Is(%v, lbsync.ErrAuth) = true", err)
			}
			if len(got) != 0 {
				t.Errorf("server got %d messages after a failure", len(got))
			}
			if strings.Contains(err.Error(), "pw") && tt.be.password == "pw" {
				t.Errorf("error mentions the password: %v", err)
			}
		})
	}
}

func TestSendRecipientError(t *testing.T) {
	be := &backend{rcptErr: map[string]error{"bob@example.net": &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}}}
	srv := startServer(t, be, modePlain)
	err := Send(context.Background(), srv, "me@example.org", []string{"ann@example.com", "bob@example.net"}, strings.NewReader("Subject: x\r\n\r\nx\r\n"))
	var e *Error
	if !errors.As(err, &e) || e.Recipient != "bob@example.net" || e.Enhanced != "5.1.1" {
		t.Fatalf("error = %#v", err)
	}
	if want := "smtp rcpt <bob@example.net>: 550 5.1.1 no such user"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestSendContext(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	srv := Server{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Security: SecurityNone, Timeout: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = Send(ctx, srv, "a@x.org", []string{"b@y.org"}, strings.NewReader("x"))
	if time.Since(start) > 10*time.Second {
		t.Errorf("Send took %v after the context ended", time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) || !lbsync.IsTemporary(err) {
		t.Errorf("Send error = %v, want a temporary deadline error", err)
	}
}

func TestTestLogin(t *testing.T) {
	be := &backend{login: "me", password: "pw"}
	srv := startServer(t, be, modeStartTLS)
	if err := TestLogin(context.Background(), srv); err != nil {
		t.Fatalf("TestLogin: %v", err)
	}
	srv.Password = "nope"
	if err := TestLogin(context.Background(), srv); !errors.Is(err, lbsync.ErrAuth) || lbsync.IsTemporary(err) {
		t.Fatalf("TestLogin with a wrong password = %v, want lbsync.ErrAuth", err)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.authFail != 1 {
		t.Errorf("server saw %d failed logins, want 1", be.authFail)
	}
}

func TestServerStringHidesPassword(t *testing.T) {
	srv := Server{Host: "smtp.example.org", Login: "ann", Password: "s3cret", TLS: &tls.Config{}}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, srv); strings.Contains(s, "s3cret") {
			t.Errorf("%s prints the password: %s", f, s)
		}
	}
	if got, want := srv.String(), "smtp.example.org:587 (starttls) as ann"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestSendSizeLimit(t *testing.T) {
	be := &backend{}
	srv := startServer(t, be, modePlain) // the server accepts 1 MiB
	big := bytes.Repeat([]byte("x"), 2<<20)
	err := Send(context.Background(), srv, "a@x.org", []string{"b@y.org"}, bytes.NewReader(big))
	var e *Error
	if !errors.As(err, &e) || e.Stage != StageMail || (e.Kind == lbsync.Temporary) {
		t.Fatalf("Send of an oversized message = %v", err)
	}
}
