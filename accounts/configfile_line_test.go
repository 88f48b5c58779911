package accounts

import (
	"strings"
	"testing"
)

// TestSyntaxErrorLine: a TOML syntax error names the line it is on, also
// when the decoder only notices it at the newline.
func TestSyntaxErrorLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		line string
	}{
		{"[[account]\nname = \"x\"\n", "line 1:"},
		{"[keys]\n[[account]\nname = \"x\"\n", "line 2 "},
		{"[[account\n", "line 1:"},
		{"[[account]]\nname = \n", "line 2"},
	} {
		_, err := parseConfig([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.line) {
			t.Errorf("%q: %v; want %s", c.in, err, c.line)
		}
	}
}
