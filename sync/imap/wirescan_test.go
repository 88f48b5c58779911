package imapsync

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// scanLog runs a scanner over input in pieces of n octets (all at once
// when n <= 0) and returns what it saw: heads and ends, and the error.
func scanLog(input string, n int, maxLine, maxLit int64) (string, error) {
	var log strings.Builder
	s := wireScan{maxLine: maxLine, maxLiteral: maxLit,
		onHead: func(h []byte) { fmt.Fprintf(&log, "head %q;", h) },
		onEnd:  func(int64) error { log.WriteString("end;"); return nil },
		bigLine: func(h []byte) int64 {
			if _, w, _ := headTokens(h); isListing(w[0]) {
				return maxLine * 4
			}
			return 0
		}}
	b := []byte(input)
	if n <= 0 {
		n = len(b) + 1
	}
	for len(b) > 0 {
		k := min(n, len(b))
		if err := s.feed(b[:k]); err != nil {
			return log.String(), err
		}
		b = b[k:]
	}
	return log.String(), nil
}

func TestWireScan(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		err      string
	}{
		{"greeting", "* OK ready\r\n", `head "* OK ready\r\n";end;`, ""},
		{"bare LF", "* OK ready\nT1 OK done\n", `head "* OK ready\n";end;head "T1 OK done\n";end;`, ""},
		{"literal", "* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 3)\r\nT1 OK x\r\n",
			`head "* 1 FETCH (BODY[] {5}\r\n";end;head "T1 OK x\r\n";end;`, ""},
		{"literal with a space before CRLF", "* LIST () \"/\" {3} \r\nT1 UID 3\r\n", `head "* LIST () \"/\" {3} \r\n";end;`, ""},
		{"literal8", "* 1 FETCH (BINARY[] ~{2}\r\nT1)\r\n", `head "* 1 FETCH (BINARY[] ~{2}\r\n";end;`, ""},
		{"empty literal", "* 1 FETCH (BODY[] {0}\r\n)\r\n", `head "* 1 FETCH (BODY[] {0}\r\n";end;`, ""},
		{"literal in text is a literal", "* OK x {2}\r\n\r\n\r\n", `head "* OK x {2}\r\n";end;`, ""},
		{"not a literal", "* OK {x}\r\n* OK }\r\n* OK 12}\r\n",
			`head "* OK {x}\r\n";end;head "* OK }\r\n";end;head "* OK 12}\r\n";end;`, ""},
		{"leading zeros", "* LIST () \"/\" {0000000000000000000000003}\r\nabc\r\n", `head "* LIST () \"/\" {0000000000000000000000003}\r\n";end;`, ""},
		{"line too long", "* OK " + strings.Repeat("x", 200) + "\r\n", "", "server line longer than 100 bytes: hostile or broken server"},
		{"parts outside literals add up", "* 1 FETCH (A {1}\r\nx" + strings.Repeat("y", 90) + " B {1}\r\nx)\r\n", "", "server line longer than 100 bytes"},
		{"search may be longer", "* SEARCH " + strings.Repeat("1 ", 150) + "\r\n", fmt.Sprintf("head %q;end;", ("* SEARCH " + strings.Repeat("1 ", 150))[:headMax]), ""},
		{"search too", "* SEARCH " + strings.Repeat("1 ", 250) + "\r\n", "", "server line longer than 400 bytes"},
		{"literal too big", "* 1 FETCH (BODY[] {1001}\r\n", "", "server literal of 1001 bytes exceeds the limit of 1000 bytes"},
		{"literal count too large", "* 1 FETCH (BODY[] {1234567890123456789}\r\n", "", "server literal count 123456789012345678… too large"},
		{"literal count unreadable", "* X {" + strings.Repeat("9", 90) + "}\r\n", "", "server literal count too long"},
	}
	for _, tc := range tests {
		for _, n := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				got, err := scanLog(tc.in, n, 100, 1000)
				switch {
				case tc.err != "":
					if err == nil || !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("error %v, want %q", err, tc.err)
					}
					if !errors.Is(err, lbsync.ErrProtocol) {
						t.Errorf("error %v is not a Protocol error", err)
					}
				case err != nil:
					t.Fatal(err)
				case got != tc.want:
					t.Errorf("got  %s\nwant %s", got, tc.want)
				}
			})
		}
	}
}

func TestHeadTokens(t *testing.T) {
	tests := []struct {
		in    string
		tag   string
		words [2]string
		sp    bool
	}{
		{"T12 UID FETCH 1:* (FLAGS)\r\n", "T12", [2]string{"UID", "FETCH"}, true},
		{"* 3 exists\r\n", "*", [2]string{"3", "EXISTS"}, true},
		{"* STATUS INBOX (MESSAGES 3)", "*", [2]string{"STATUS", "INBOX"}, true},
		{"DONE\r\n", "DONE", [2]string{"", ""}, false},
		{"+ idling\r\n", "+", [2]string{"IDLING", ""}, true},
		{"+\r\n", "+", [2]string{"", ""}, false},
	}
	for _, tc := range tests {
		tag, w, sp := headTokens([]byte(tc.in))
		if tag != tc.tag || w != tc.words || sp != tc.sp {
			t.Errorf("%q: %q %q %v", tc.in, tag, w, sp)
		}
	}
}

// FuzzWireScan: the scanner never panics, and what it sees (and whether
// it fails) does not depend on how the stream is cut into reads.
func FuzzWireScan(f *testing.F) {
	for _, s := range []string{
		"* OK ready\r\n",
		"* 1 FETCH (UID 1 BODY[] {5}\r\nab\r\nc)\r\nT1 OK done\r\n",
		"+ idling\r\n* 3 EXISTS\r\n",
		"* SEARCH 1 2 3\r\n",
		"* LIST () \"/\" {99999999999999999999}\r\n",
		"* X {" + strings.Repeat("0", 70) + "1}\r\nx\r\n",
		"* 1 FETCH (BINARY[1] ~{3}\r\nabc)\r\n",
	} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, cut uint8) {
		whole, werr := scanLog(in, 0, 256, 4096)
		parts, perr := scanLog(in, int(cut%16)+1, 256, 4096)
		if (werr == nil) != (perr == nil) {
			t.Fatalf("whole: %v; in pieces: %v", werr, perr)
		}
		if werr == nil && whole != parts {
			t.Fatalf("whole:     %s\nin pieces: %s", whole, parts)
		}
	})
}
