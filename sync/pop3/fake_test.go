package pop3

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// fake is a tiny scripted POP3 server on 127.0.0.1 for protocol corners
// that real servers do not produce on demand. It records every command
// line it receives.
type fake struct {
	// greeting replaces "+OK fake ready".
	greeting string
	// capa is the CAPA list; nil answers CAPA with -ERR (an RFC 1939
	// server). STLS is added when tls is set.
	capa []string
	// tls enables STLS; implicit starts TLS at once instead.
	tls      *tls.Config
	implicit bool
	// login replaces the reply to PASS and AUTH ("-ERR [IN-USE] ...").
	login string
	// auth, when set, runs the AUTH exchange instead: arg is what
	// follows AUTH, read reads the client's next line, say answers.
	auth func(arg string, read func() (string, error), say func(string))
	// msgs are the messages, sent dot-stuffed; wire[n] replaces what
	// follows "+OK" for RETR n (the raw bytes and the terminator, or a
	// truncated body: the connection is closed after it if it does not
	// end with ".\r\n").
	msgs []string
	wire map[int]string
	// noUIDL answers UIDL with -ERR; retrErr[n] is the reply to RETR n.
	noUIDL  bool
	retrErr map[int]string
	// stall stops answering after the greeting.
	stall bool
	// inject is sent in clear text right after STLS's +OK, as a man in
	// the middle would.
	inject string

	ln        net.Listener
	mu        sync.Mutex
	cmds      []string
	pipelined int   // commands that arrived while another was unanswered
	deleted   []int // applied at QUIT
	// accepted and ended count sessions; ends is signalled at each end.
	accepted, ended int
	ends            chan struct{}
}

var defaultCapa = []string{"TOP", "UIDL", "USER", "RESP-CODES", "PIPELINING", "SASL PLAIN"}

// start listens and serves until the test ends; it returns the address.
func (f *fake) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.ends = make(chan struct{}, 1)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.accepted++
			f.mu.Unlock()
			go func() {
				defer f.endSession()
				f.session(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func (f *fake) endSession() {
	f.mu.Lock()
	f.ended++
	f.mu.Unlock()
	select {
	case f.ends <- struct{}{}:
	default:
	}
}

// wait waits until every session the fake accepted has ended (the client
// closed its connection), so that what the fake recorded is complete.
func (f *fake) wait(t *testing.T) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		done := f.ended == f.accepted
		f.mu.Unlock()
		if done {
			return
		}
		select {
		case <-f.ends:
		case <-deadline:
			t.Fatal("the fake's sessions did not end")
		}
	}
}

func (f *fake) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

// stuff is a message on the wire: CRLF line ends, dots doubled, the
// terminating line.
func stuff(msg string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(msg, "\n") {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, ".") {
			b.WriteByte('.')
		}
		b.WriteString(strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r") + "\r\n")
	}
	return b.String() + ".\r\n"
}

func (f *fake) session(c net.Conn) {
	defer c.Close()
	if f.implicit {
		c = tls.Server(c, f.tls)
	}
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(s string) { bw.WriteString(s + "\r\n") }
	greeting := f.greeting
	if greeting == "" {
		greeting = "+OK fake ready <1.2@fake>"
	}
	say(greeting)
	bw.Flush()
	var marked []int
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.cmds = append(f.cmds, line)
		if br.Buffered() > 0 {
			f.pipelined++
		}
		f.mu.Unlock()
		if f.stall {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		n, _ := strconv.Atoi(arg)
		if sp := strings.IndexByte(arg, ' '); sp > 0 {
			n, _ = strconv.Atoi(arg[:sp])
		}
		switch strings.ToUpper(verb) {
		case "CAPA":
			if f.capa == nil {
				say("-ERR unknown command")
				break
			}
			say("+OK")
			for _, cp := range f.capa {
				say(cp)
			}
			if f.tls != nil && !f.implicit {
				say("STLS")
			}
			say(".")
		case "STLS":
			if f.tls == nil {
				say("-ERR no TLS")
				break
			}
			say("+OK go ahead")
			bw.WriteString(f.inject)
			bw.Flush()
			tc := tls.Server(c, f.tls)
			if tc.Handshake() != nil {
				return
			}
			c = tc
			br, bw = bufio.NewReader(c), bufio.NewWriter(c)
		case "USER", "NOOP":
			say("+OK")
		case "RSET":
			marked = nil
			say("+OK")
		case "PASS":
			say(cond(f.login != "", f.login, "+OK logged in"))
		case "AUTH":
			if f.auth != nil {
				f.auth(arg, func() (string, error) {
					bw.Flush()
					l, err := br.ReadString('\n')
					l = strings.TrimRight(l, "\r\n")
					f.mu.Lock()
					f.cmds = append(f.cmds, l)
					f.mu.Unlock()
					return l, err
				}, say)
				break
			}
			if arg == "PLAIN" {
				say("+ ")
				bw.Flush()
				resp, err := br.ReadString('\n')
				if err != nil {
					return
				}
				f.mu.Lock()
				f.cmds = append(f.cmds, strings.TrimRight(resp, "\r\n"))
				f.mu.Unlock()
			}
			say(cond(f.login != "", f.login, "+OK logged in"))
		case "STAT":
			say(fmt.Sprintf("+OK %d %d", len(f.msgs), 100*len(f.msgs)))
		case "LIST":
			say("+OK")
			for i, m := range f.msgs {
				say(fmt.Sprintf("%d %d", i+1, len(m)))
			}
			say(".")
		case "UIDL":
			if f.noUIDL {
				say("-ERR what is UIDL")
				break
			}
			say("+OK")
			for i := range f.msgs {
				say(fmt.Sprintf("%d uid-%d", i+1, i+1))
			}
			say(".")
		case "RETR", "TOP":
			if e, ok := f.retrErr[n]; ok {
				say(e)
				break
			}
			if n < 1 || n > len(f.msgs) {
				say("-ERR no such message")
				break
			}
			say("+OK message follows")
			if w, ok := f.wire[n]; ok {
				bw.WriteString(w)
				if !strings.HasSuffix(w, ".\r\n") && !strings.HasSuffix(w, "\n.\n") {
					bw.Flush()
					return
				}
				break
			}
			bw.WriteString(stuff(f.msgs[n-1]))
		case "DELE":
			marked = append(marked, n)
			say("+OK marked")
		case "QUIT":
			f.mu.Lock()
			f.deleted = append(f.deleted, marked...)
			f.mu.Unlock()
			say("+OK bye")
			bw.Flush()
			return
		default:
			say("-ERR unknown command")
		}
		if br.Buffered() == 0 {
			bw.Flush()
		}
	}
}

func cond(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// plainResp is the AUTH PLAIN initial response for user and password.
func plainResp(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// testCert returns a server config with a fresh self-signed certificate
// for 127.0.0.1, and a client config that trusts it.
func testCert(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	cert, err := tlsutil.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: roots}
}
