package submit

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadEnvelope(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		from    string
		rcpts   []string
		header  string // the header as sent
		wantErr error
	}{
		{
			name:   "simple",
			raw:    "From: Me <me@example.org>\r\nTo: ann@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			from:   "me@example.org",
			rcpts:  []string{"ann@example.com"},
			header: "From: Me <me@example.org>\r\nTo: ann@example.com\r\nSubject: hi\r\n\r\n",
		},
		{
			name: "bcc stripped, folding and case kept, recipients deduplicated",
			raw: "from: me@example.org\r\nTo: ann@example.com,\r\n  Bob <bob@example.net>\r\nCC: ANN@example.com, carl@example.com\r\n" +
				"Bcc: hidden@example.com,\r\n bob@EXAMPLE.net\r\nX-Odd:   spaced  \r\n\r\nbody",
			from:   "me@example.org",
			rcpts:  []string{"ann@example.com", "bob@example.net", "carl@example.com", "hidden@example.com"},
			header: "from: me@example.org\r\nTo: ann@example.com,\r\n  Bob <bob@example.net>\r\nCC: ANN@example.com, carl@example.com\r\nX-Odd:   spaced  \r\n\r\n",
		},
		{
			name:   "group with members",
			raw:    "From: me@example.org\r\nTo: team: a@example.com, b@example.com;\r\n\r\n",
			from:   "me@example.org",
			rcpts:  []string{"a@example.com", "b@example.com"},
			header: "From: me@example.org\r\nTo: team: a@example.com, b@example.com;\r\n\r\n",
		},
		{
			// Display names in other charsets (RFC 2047) are decoded,
			// which needs go-message's charset tables registered by this
			// package, not by whichever other package the binary links.
			name:   "encoded names in other charsets",
			raw:    "From: =?iso-8859-1?q?J=F6rg?= <j@example.org>\r\nTo: =?koi8-r?b?8NLJ18XU?= <p@example.com>\r\nSubject: =?windows-1252?q?caf=E9?=\r\n\r\n",
			from:   "j@example.org",
			rcpts:  []string{"p@example.com"},
			header: "From: =?iso-8859-1?q?J=F6rg?= <j@example.org>\r\nTo: =?koi8-r?b?8NLJ18XU?= <p@example.com>\r\nSubject: =?windows-1252?q?caf=E9?=\r\n\r\n",
		},
		{name: "no recipients", raw: "From: me@example.org\r\nBcc:\r\n\r\n", wantErr: ErrNoRecipients},
		{name: "no from", raw: "To: a@example.com\r\n\r\n", wantErr: ErrNoRecipients},
		{name: "bad address", raw: "From: me@example.org\r\nTo: <<<\r\n\r\n", wantErr: errors.New("to:")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := readEnvelope(strings.NewReader(tt.raw))
			if tt.wantErr != nil {
				if err == nil || !errors.Is(err, tt.wantErr) && !strings.Contains(err.Error(), tt.wantErr.Error()) {
					t.Fatalf("readEnvelope error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if env.from != tt.from || !reflect.DeepEqual(env.rcpts, tt.rcpts) {
				t.Errorf("envelope %s -> %q; want %s -> %q", env.from, env.rcpts, tt.from, tt.rcpts)
			}
			if string(env.header) != tt.header {
				t.Errorf("header =\n%q\nwant\n%q", env.header, tt.header)
			}
			if body := tt.raw[env.bodyOffset:]; !strings.HasSuffix(tt.raw, "\r\n\r\n"+body) {
				t.Errorf("body offset %d points at %q", env.bodyOffset, body)
			}
		})
	}
}

func TestSizeOf(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		want int64
	}{
		{"strings", strings.NewReader("abc"), 3},
		{"bytes", bytes.NewReader([]byte("abcd")), 4},
		{"sized", &sized{Reader: strings.NewReader(""), n: 7}, 7},
		{"unknown", io.MultiReader(strings.NewReader("abc")), 0},
	}
	for _, tt := range tests {
		if got := sizeOf(tt.r); got != tt.want {
			t.Errorf("%s: sizeOf = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	st, err := loadState(dir)
	if err != nil || len(st.Notes) != 0 {
		t.Fatalf("empty state: %+v, %v", st, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	keys := []string{noteKey("Outbox", 7, 1), noteKey("Outbox", 7, 2), noteKey("Work/Outbox", 7, 1)}
	for i, k := range keys {
		n := st.get(k)
		n.Attempts, n.LastAttempt, n.Code = i+1, at, 450+i
	}
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	back, err := loadState(dir)
	if err != nil || !reflect.DeepEqual(back.Notes, st.Notes) {
		t.Fatalf("reloaded %+v, %v", back.Notes, err)
	}
	// Pruning one mailbox leaves the other's notes, even with "/" in names.
	if !back.prune("Outbox", map[string]bool{keys[1]: true}) {
		t.Fatal("prune changed nothing")
	}
	if _, ok := back.Notes[keys[0]]; ok || len(back.Notes) != 2 {
		t.Errorf("after prune: %v", back.Notes)
	}
	if got := keyMailbox(keys[2]); got != "Work/Outbox" {
		t.Errorf("keyMailbox = %q", got)
	}
	// A damaged file is an error, not an empty state.
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(dir); err == nil {
		t.Error("damaged state loaded without error")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, StateFile+".tmp*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}
