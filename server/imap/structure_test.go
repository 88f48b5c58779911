package imapd

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// structureCorpus is normal mail: the samples of store/mime, a mailgen
// corpus with many attachments, and hand-written shapes that exercise
// every field of BODYSTRUCTURE.
func structureCorpus(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	paths, err := filepath.Glob(filepath.Join("..", "..", "store", "mime", "testdata", "*.eml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in store/mime/testdata: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	g := mailgen.New(mailgen.Options{Seed: 12, Count: 300, AttachmentRate: 0.25})
	for m, ok := g.Next(); ok; m, ok = g.Next() {
		out = append(out, m.Raw)
	}
	for _, s := range handWrittenShapes {
		out = append(out, []byte(strings.ReplaceAll(s, "\n", "\r\n")))
	}
	return out
}

// handWrittenShapes are messages with LF line ends (CRLF on use).
var handWrittenShapes = []string{
	// Every single-part field: params, id, description, encoding, md5,
	// disposition with params, language list, location.
	`From: "Ann Example" <ann@example.com>
To: bob@example.org, "Carl, Jr." <carl@example.net>
Cc: undisclosed-recipients:;
Reply-To: list@example.org
Sender: bounce@example.org
Subject: =?utf-8?q?caf=C3=A9_menu?=
Date: Tue, 3 Mar 2026 09:15:00 -0500
Message-ID: <menu-1@example.com>
In-Reply-To: <a@example.com> <b@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"; format=flowed
Content-ID: <part1@example.com>
Content-Description: The menu
Content-Transfer-Encoding: Quoted-Printable
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: inline; filename="menu.txt"; size=12
Content-Language: en, fr
Content-Location: http://example.com/menu.txt

caf=E9
cr=E8me
`,
	// multipart/mixed: alternative inside, an attachment, and a
	// forwarded message that is itself multipart.
	`From: ann@example.com
To: bob@example.org
Subject: forward
Date: Wed, 4 Mar 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"
Content-Language: de
Content-Location: forward

preamble
--outer
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain; charset=utf-8

Hello,
see below.
--alt
Content-Type: text/html; charset=utf-8

<p>Hello,<br>see below.</p>
--alt--
--outer
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="report.pdf"

JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURl
Y29kZT4+CnN0cmVhbQp4nCvkMlAwUDC1NNUzMVGwMDHUszRSKErlCtfiyuMCAF9oBg0KZW5kc3Ry
--outer
Content-Type: message/rfc822
Content-Description: forwarded message

From: Carl <carl@example.net>
To: ann@example.com
Subject: the original
Date: Mon, 2 Mar 2026 08:00:00 +0000
Message-ID: <orig@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

original text
--inner
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename=dot.png

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==
--inner--
--outer--
epilogue
`,
	// No MIME at all.
	`From: ann@example.com
Subject: plain
Date: Thu, 5 Mar 2026 11:00:00 +0000

just text
two lines
`,
	// A message/rfc822 part holding a single-part message.
	`From: ann@example.com
Subject: wrapped
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see attached
--b
Content-Type: message/rfc822

Subject: inner
From: "Dora" <dora@example.org>

inner body
--b--
`,
	// multipart/related with Content-IDs and a multipart disposition.
	`From: ann@example.com
Subject: related
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"; type="text/html"
Content-Disposition: inline

--rel
Content-Type: text/html; charset=us-ascii

<img src="cid:logo@x">
--rel
Content-Type: image/gif
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
--rel--
`,
}

// TestStructureLikeGoIMAP answers FETCH ENVELOPE, BODY and BODYSTRUCTURE
// of normal mail exactly as go-imap's ExtractEnvelope and
// ExtractBodyStructure did: the same messages in go-imap's own in-memory
// server (which uses them) and in ours give the same bytes on the wire.
func TestStructureLikeGoIMAP(t *testing.T) {
	corpus := structureCorpus(t)
	e := newEnv(t, Options{InsecureAuth: true})
	for _, raw := range corpus {
		e.add("INBOX", string(raw))
	}
	memAddr := startMemServer(t, corpus)
	const cmd = "FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)"
	want := fetchAll(t, memAddr, cmd)
	got := fetchAll(t, e.addr, cmd)
	if len(got) != len(corpus) || len(want) != len(corpus) {
		t.Fatalf("%d answers from letterbox, %d from go-imap, for %d messages", len(got), len(want), len(corpus))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("message %d: answers differ at byte %d:\n letterbox: %s\n go-imap:   %s", i+1, diffAt(got[i], want[i]),
				around(got[i], diffAt(got[i], want[i])), around(want[i], diffAt(got[i], want[i])))
		}
	}
}

// startMemServer serves msgs from go-imap's in-memory server, which
// answers with imapserver.ExtractEnvelope and ExtractBodyStructure.
func startMemServer(t *testing.T, msgs [][]byte) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(testUser, testPass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for _, raw := range msgs {
		if _, err := u.Append("INBOX", literal{strings.NewReader(string(raw)), int64(len(raw))}, &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         capabilities(),
		InsecureAuth: true,
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("memory server: %v", err)
		}
	})
	return l.Addr().String()
}

type literal struct {
	*strings.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// fetchAll logs in at addr, selects INBOX, sends "t " + cmd and returns
// the untagged FETCH responses in order, each with its literals inline.
func fetchAll(t *testing.T, addr, cmd string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprintf(c, "l LOGIN %s %s\r\ns SELECT INBOX\r\nt %s\r\n", testUser, testPass, cmd)
	var out []string
	for {
		resp, err := readResponse(r)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		switch {
		case strings.HasPrefix(resp, "t "):
			if !strings.HasPrefix(resp, "t OK") {
				t.Fatalf("%s: %s: %s", addr, cmd, resp)
			}
			return out
		case strings.HasPrefix(resp, "l ") || strings.HasPrefix(resp, "s "):
			if !strings.Contains(resp, " OK") {
				t.Fatalf("%s: %s", addr, resp)
			}
		case fetchLine.MatchString(resp):
			out = append(out, resp)
		}
	}
}

var (
	fetchLine   = regexp.MustCompile(`^\* \d+ FETCH `)
	literalTail = regexp.MustCompile(`\{(\d+)\+?\}\r\n$`)
)

// readResponse reads one response, with its literals.
func readResponse(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		b.WriteString(line)
		m := literalTail.FindStringSubmatch(line)
		if m == nil {
			return b.String(), nil
		}
		n, _ := strconv.Atoi(m[1])
		buf := make([]byte, n)
		if _, err := readFull(r, buf); err != nil {
			return b.String(), err
		}
		b.Write(buf)
	}
}

func readFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func diffAt(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func around(s string, i int) string {
	return fmt.Sprintf("%q", s[max(0, i-120):min(len(s), i+120)])
}
