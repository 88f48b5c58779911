package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyConflicts: a key bound to two actions that act on the same
// screen is an error at start naming both actions and the key (issue 15
// item 4); the same key on different screens is fine (tab: the sidebar
// on the list, the next attachment in the reader, the next field in the
// composer), as are the defaults.
func TestKeyConflicts(t *testing.T) {
	if _, err := LoadSettings("", env(nil)); err != nil {
		t.Fatalf("the defaults conflict: %v", err)
	}
	path := filepath.Join(t.TempDir(), "ui.toml")
	for _, tc := range []struct {
		toml string
		want []string // in the error; none: no error
	}{
		{"[keys]\ndelete = \"x\"", []string{`"x"`, "tag", "delete"}},
		{"[keys]\narchive = [\"A\", \"g\"]", []string{`"g"`, "top", "archive"}},
		// The reader has its own map: x does not tag there.
		{"[keys.reader]\ndelete = \"x\"", nil},
		{"[keys.reader]\nflag = \"J\"", []string{`"J"`, "next_message", "flag", "reader"}},
		// A sequence and a key that starts it cannot share a screen.
		{"[keys]\nsync = \"z\"", []string{`"z"`, "sync", "toggle_thread", `"za"`}},
		// Different screens: tab is already three things.
		{"[keys]\nnext_attachment = \"tab\"", nil},
		{"[keys]\nsend = \"d\"", nil},
		{"[keys.list]\ndelete = \"x\"\ntag = \"t\"", nil},
		{"[keys.nowhere]\ndelete = \"x\"", []string{"nowhere"}},
	} {
		os.WriteFile(path, []byte(tc.toml), 0o600)
		_, err := LoadSettings(path, env(nil))
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%q: %v", tc.toml, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%q: accepted", tc.toml)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q lacks %q", tc.toml, err, w)
			}
		}
	}
}
