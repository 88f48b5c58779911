package pop3

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// script is a POP3 server on loopback that answers each command with
// what its verb maps to (stall: nothing, until the test ends), for the
// silent-server tests.
type script struct {
	ln    net.Listener
	greet string // "" greets nothing
	reply map[string]string
	stall map[string]bool
	// flood maps a verb to a line written again and again after its
	// reply, until the connection fails: a hostile server.
	flood map[string]string
	hold  chan struct{}
	wg    sync.WaitGroup
}

func newScript(t *testing.T, greet string) *script {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &script{ln: ln, greet: greet, hold: make(chan struct{}), stall: map[string]bool{}, flood: map[string]string{}, reply: map[string]string{
		"CAPA": "+OK\r\nUIDL\r\nUSER\r\n.\r\n",
		"USER": "+OK\r\n",
		"PASS": "+OK\r\n",
		"UIDL": "+OK\r\n1 a\r\n.\r\n",
		"QUIT": "+OK bye\r\n",
	}}
	t.Cleanup(func() {
		close(s.hold)
		ln.Close()
		s.wg.Wait()
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				go func() { <-s.hold; c.Close() }()
				s.serve(c)
			}()
		}
	}()
	return s
}

func (s *script) serve(c net.Conn) {
	if s.greet == "" {
		io.Copy(io.Discard, c) // reads the TLS hello, if any; says nothing
		return
	}
	io.WriteString(c, s.greet)
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		verb = strings.ToUpper(verb)
		io.WriteString(c, s.reply[verb])
		if l := s.flood[verb]; l != "" {
			buf := []byte(strings.Repeat(l, max(1, (32<<10)/len(l))))
			for {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}
		if s.stall[verb] {
			<-s.hold
			return
		}
	}
}

func (s *script) addr() string { return s.ln.Addr().String() }

// TestSilentServer: a POP3 server that accepts and then says nothing (no
// greeting, no TLS handshake, no reply to STLS, stalled in the middle of
// a command or of a message) fails the download after the injected
// timeout with a Temporary error that says what timed out.
func TestSilentServer(t *testing.T) {
	const short = 300 * time.Millisecond
	tests := []struct {
		name     string
		security Security
		setup    func(s *script)
		dial     func(ctx context.Context, network, addr string) (net.Conn, error)
		want     string
	}{
		{"no TCP connection", SecurityNone, nil, func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, "pop3 ADDR: connect: no TCP connection within 300ms"},
		{"no greeting", SecurityNone, func(s *script) { s.greet = "" }, nil, "pop3 ADDR: greeting: no greeting within 300ms"},
		{"no TLS handshake", SecurityTLS, func(s *script) { s.greet = "" }, nil, "pop3 ADDR: TLS handshake: TLS handshake not finished within 300ms"},
		{"STLS unanswered", SecurityStartTLS, func(s *script) {
			s.reply["CAPA"] = "+OK\r\nSTLS\r\nUIDL\r\nUSER\r\n.\r\n"
			s.stall["STLS"] = true
		}, nil, "STLS: server silent for 300ms"},
		{"login unanswered", SecurityNone, func(s *script) { s.stall["USER"] = true; s.reply["USER"] = "" }, nil,
			"USER: server silent for 300ms"},
		{"stall in a listing", SecurityNone, func(s *script) { s.stall["UIDL"] = true; s.reply["UIDL"] = "+OK\r\n1 a\r\n" }, nil,
			"UIDL: server silent for 300ms"},
		{"stall in a message", SecurityNone, func(s *script) {
			s.stall["RETR"] = true
			s.reply["RETR"] = "+OK\r\nSubject: x\r\n\r\nhalf a bo"
		}, nil, "server silent for 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t, "+OK ready\r\n")
			if tc.setup != nil {
				tc.setup(s)
			}
			st, err := store.Open(context.Background(), t.TempDir(), &store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err = Sync(ctx, st, Options{Account: "t", Client: Config{Addr: s.addr(), Security: tc.security, Dial: tc.dial,
				Login: "u", Password: "p", ConnectTimeout: short, Timeout: short}})
			want := strings.ReplaceAll(tc.want, "ADDR", s.addr())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			if !lbsync.IsTemporary(err) || !lbsync.IsTimeout(err) {
				t.Errorf("error %v: kind %v, timeout %v; want a Temporary timeout", err, lbsync.KindOf(err), lbsync.IsTimeout(err))
			}
			if ctx.Err() != nil {
				t.Errorf("the sync ran until the test's own deadline")
			}
			t.Log(err)
		})
	}
}
