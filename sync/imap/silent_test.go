package imapsync

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestSilentServer: a server that accepts and then says nothing (before
// the greeting, during the TLS handshake or STARTTLS, in the middle of a
// command) fails the sync after the injected timeout with a Temporary
// error that names what timed out, instead of hanging (before: until
// killed, 2.5 minutes and more).
func TestSilentServer(t *testing.T) {
	const short = 300 * time.Millisecond
	srvTLS, cli := selfSigned(t)
	tests := []struct {
		name     string
		security string
		setup    func(f *fakeIMAP)
		dial     func(ctx context.Context, network, addr string) (net.Conn, error)
		want     string
	}{
		{"no TCP connection", SecurityNone, nil, func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done() // a SYN nobody answers
			return nil, ctx.Err()
		}, "imap connect ADDR timed out: no TCP connection within 300ms"},
		{"no greeting", SecurityNone, func(f *fakeIMAP) { f.greet = func(io.Writer) { f.stall() } }, nil,
			"imap connect ADDR timed out: no greeting within 300ms"},
		{"no TLS handshake", SecurityTLS, func(f *fakeIMAP) { f.greet = func(io.Writer) { f.stall() } }, nil,
			"imap connect ADDR timed out: TLS handshake not finished within 300ms"},
		{"no greeting over TLS", SecurityTLS, func(f *fakeIMAP) {
			f.tls = srvTLS
			f.greet = func(io.Writer) { f.stall() }
		}, nil, "imap connect ADDR timed out: no greeting within 300ms"},
		{"no greeting before STARTTLS", SecurityStartTLS, func(f *fakeIMAP) { f.greet = func(io.Writer) { f.stall() } }, nil,
			"imap connect ADDR timed out: no greeting within 300ms"},
		{"STARTTLS unanswered", SecurityStartTLS, func(f *fakeIMAP) {
			f.reply["STARTTLS"] = func(string, string, io.Writer) { f.stall() }
		}, nil, "imap connect ADDR timed out: no reply to STARTTLS within 300ms"},
		{"no TLS handshake after STARTTLS", SecurityStartTLS, func(f *fakeIMAP) {
			f.reply["STARTTLS"] = func(tag, _ string, w io.Writer) {
				io.WriteString(w, tag+" OK begin TLS\r\n")
				f.stall()
			}
		}, nil, "imap connect ADDR timed out: TLS handshake not finished within 300ms"},
		{"login unanswered", SecurityNone, func(f *fakeIMAP) {
			f.reply["LOGIN"] = func(string, string, io.Writer) { f.stall() }
		}, nil, "imap login ADDR timed out: server silent for 300ms"},
		{"stall in the middle of a command", SecurityNone, func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) { io.WriteString(w, `* LIST () "/" INBOX`+"\r\n") })
		}, nil, "imap list timed out: server silent for 300ms"},
		{"stall in the middle of a literal", SecurityNone, func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) { io.WriteString(w, "* LIST () \"/\" {100}\r\nINB") })
		}, nil, "imap list timed out: server silent for 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIMAP(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			f.start()
			opts := Options{Account: "t", Server: Config{Addr: f.addr(), Security: tc.security, TLS: cli, Dial: tc.dial,
				Login: "u", Password: "p", ConnectTimeout: short, CommandTimeout: short}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := Sync(ctx, newStore(t), opts)
			want := strings.ReplaceAll(tc.want, "ADDR", f.addr())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			if !lbsync.IsTemporary(err) || !lbsync.IsTimeout(err) {
				t.Errorf("error %v: kind %v, timeout %v; want a Temporary timeout", err, lbsync.KindOf(err), lbsync.IsTimeout(err))
			}
			if ctx.Err() != nil {
				t.Errorf("the sync ran until the test's own deadline")
			}
		})
	}
}

// TestSlowButFlowing: the command timeout bounds silence, not the
// command: a body that takes several timeouts to arrive, but keeps
// coming, is downloaded.
func TestSlowButFlowing(t *testing.T) {
	const short = 300 * time.Millisecond
	msg := testMsg("slow@example.test", 40<<10)
	f := newFakeIMAP(t)
	f.mailbox(1)
	f.reply["UID FETCH"] = func(tag, line string, w io.Writer) {
		if !strings.Contains(line, "BODY.PEEK") {
			fmt.Fprintf(w, "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE %d)\r\n%s OK done\r\n", len(msg), tag)
			return
		}
		section := "BODY[HEADER]"
		if strings.Contains(line, "BODY.PEEK[]") {
			section = "BODY[]"
		}
		data := msg
		if section == "BODY[HEADER]" {
			data = msg[:strings.Index(string(msg), "\r\n\r\n")+4]
		}
		fmt.Fprintf(w, "* 1 FETCH (UID 1 FLAGS () INTERNALDATE \"02-Mar-2026 10:00:00 +0000\" RFC822.SIZE %d %s {%d}\r\n", len(msg), section, len(data))
		// 8 pieces, one every short/2: the whole takes 4 timeouts.
		for i := range 8 {
			w.Write(data[i*len(data)/8 : (i+1)*len(data)/8])
			time.Sleep(short / 2)
		}
		io.WriteString(w, ")\r\n"+tag+" OK done\r\n")
	}
	f.start()
	opts := Options{Account: "t", Server: Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p",
		ConnectTimeout: short, CommandTimeout: short}}
	res, err := Sync(context.Background(), newStore(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 1 {
		t.Errorf("new %d, want 1", res.New)
	}
}

// TestIdleOutlivesTimeout: a server silent in IDLE (it answered "+
// idling") is not a timeout, however long the silence; the reply to
// DONE is awaited with the timeout again.
func TestIdleOutlivesTimeout(t *testing.T) {
	const short = 200 * time.Millisecond
	for _, answer := range []bool{true, false} {
		t.Run(fmt.Sprintf("answers DONE %v", answer), func(t *testing.T) {
			f := newFakeIMAP(t)
			f.mailbox(0)
			var idleTag string
			f.reply["IDLE"] = func(tag, _ string, w io.Writer) {
				idleTag = tag
				io.WriteString(w, "+ idling\r\n")
			}
			// DONE arrives as a line of its own: answer IDLE then.
			f.reply["DONE"] = func(_, _ string, w io.Writer) {
				if answer {
					io.WriteString(w, idleTag+" OK idle done\r\n")
				} else {
					f.stall()
				}
			}
			f.start()
			c, err := dial(context.Background(), Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p",
				ConnectTimeout: short, CommandTimeout: short})
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			if _, err := c.selectBox("INBOX"); err != nil {
				t.Fatal(err)
			}
			idle, err := c.c.Idle()
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * short) // the silence under test, not a synchronisation
			if err := c.failure(); err != nil {
				t.Fatalf("IDLE timed out: %v", err)
			}
			idle.Close()
			err = c.wrap("idle", "INBOX", idle.Wait())
			switch {
			case answer && err != nil:
				t.Fatalf("IDLE: %v", err)
			case !answer && (err == nil || !strings.Contains(err.Error(), "imap idle INBOX timed out: server silent for 200ms")):
				t.Fatalf("unanswered DONE: %v", err)
			}
		})
	}
}
