package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestReadLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []string
		err  error // after the lines
	}{
		{"crlf", "STAT\r\nLIST 1\r\n", 512, []string{"STAT", "LIST 1"}, io.EOF},
		{"bare lf", "STAT\nQUIT\n", 512, []string{"STAT", "QUIT"}, io.EOF},
		{"unterminated dropped", "STAT\r\nQUI", 512, []string{"STAT"}, io.EOF},
		{"empty line", "\r\n", 512, []string{""}, io.EOF},
		{"exactly max", "NOOP xx\r\n", 9, []string{"NOOP xx"}, io.EOF},
		{"one over max", "NOOP xxx\r\n", 9, nil, errLineTooLong},
		{"long without end", strings.Repeat("a", 100), 9, nil, errLineTooLong},
		{"max without end yet", strings.Repeat("a", 9), 9, nil, errLineTooLong},
		{"second line long", "STAT\r\n" + strings.Repeat("b", 600) + "\r\n", 512, []string{"STAT"}, errLineTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A tiny buffer makes lines span several fills.
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			var got []string
			for {
				line, err := readLine(br, tc.max)
				if err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("error %v, want %v", err, tc.err)
					}
					break
				}
				got = append(got, string(line))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("lines %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in        string
		name      string
		arg       string
		malformed bool
	}{
		{in: "STAT", name: "STAT"},
		{in: "stat", name: "STAT"},
		{in: "Top 1 10", name: "TOP", arg: "1 10"},
		{in: "PASS  two  spaces ", name: "PASS", arg: " two  spaces "},
		{in: "USER alice@example.test", name: "USER", arg: "alice@example.test"},
		{in: "AUTH PLAIN AGFsaWNlAHB3", name: "AUTH", arg: "PLAIN AGFsaWNlAHB3"},
		{in: "", malformed: true},
		{in: " STAT", malformed: true},
		{in: "ST", malformed: true},
		{in: "STATS", malformed: true},
		{in: "ST4T", malformed: true},
		{in: "STAT\x00", malformed: true},
		{in: "PASS a\rb", malformed: true},
		{in: "PASS a\x00b", malformed: true},
	}
	for _, tc := range tests {
		c, err := parseCommand([]byte(tc.in))
		if tc.malformed {
			if err == nil {
				t.Errorf("parseCommand(%q) = %+v, want an error", tc.in, c)
			}
			continue
		}
		if err != nil || c.Name != tc.name || c.Arg != tc.arg {
			t.Errorf("parseCommand(%q) = %+v, %v; want %s %q", tc.in, c, err, tc.name, tc.arg)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "0": 0, "007": 7, "999999999": 999999999} {
		if n, ok := parseNumber(in); !ok || n != want {
			t.Errorf("parseNumber(%q) = %d, %v", in, n, ok)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1a", " 1", "1000000000", "0x10"} {
		if n, ok := parseNumber(in); ok {
			t.Errorf("parseNumber(%q) = %d, want failure", in, n)
		}
	}
}

// commandSeeds are real client input: fetchmail's, poplib's and
// Thunderbird's openings, and broken lines.
var commandSeeds = []string{
	"CAPA\r\nSTLS\r\n",
	"CAPA\r\nUSER alice@example.test\r\nPASS correct horse battery\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n",
	"AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABjb3JyZWN0IGhvcnNlIGJhdHRlcnk=\r\nTOP 1 0\r\nRSET\r\nNOOP\r\nQUIT\r\n",
	"AUTH PLAIN\r\nAGFsaWNlQGV4YW1wbGUudGVzdABjb3JyZWN0IGhvcnNlIGJhdHRlcnk=\r\nLIST 1\r\nUIDL 2\r\nTOP 2 5\r\n",
	"AUTH PLAIN\r\n*\r\nAUTH PLAIN =\r\nAUTH\r\n",
	"user alice\npass correct horse battery\nstat\n",
	"APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n",
	"XTND XMIT\r\n\r\n\x00\r\n" + strings.Repeat("A", 600) + "\r\n",
}

// FuzzCommand feeds arbitrary client input to the line reader and command
// parser and checks what they hand on.
func FuzzCommand(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		for {
			line, err := readLine(br, DefaultMaxLineLength)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, errLineTooLong) {
					t.Fatalf("readLine: %v", err)
				}
				return
			}
			if len(line)+1 > DefaultMaxLineLength || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("readLine returned %q", line)
			}
			c, err := parseCommand(line)
			if err != nil {
				continue
			}
			if len(c.Name) < 3 || len(c.Name) > 4 || strings.ToUpper(c.Name) != c.Name {
				t.Fatalf("keyword %q from %q", c.Name, line)
			}
			if strings.ContainsAny(c.Arg, "\r\n\x00") {
				t.Fatalf("argument %q from %q", c.Arg, line)
			}
			for _, a := range args(c.Arg) {
				parseNumber(a)
			}
		}
	})
}

// FuzzSession plays arbitrary client input against a live server (fake
// backend, three messages) and checks that the server answers in CRLF
// lines and closes the connection, without crashing.
func FuzzSession(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add([]byte(s))
	}
	e := newEnv(f, Options{AllowInsecureAuth: true, IdleTimeout: 2 * time.Second}, false, threeMessages())
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			c.Write(in)
			c.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.HasPrefix(out, []byte("+OK ")) {
			t.Fatalf("no greeting: %q", out)
		}
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
			t.Fatalf("reply does not end with CRLF: %q", out)
		}
	})
}
