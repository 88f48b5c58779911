package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
)

// TestHTML: the HTML part of a multipart/alternative message, decoded
// from its charset; none in a plain message.
func TestHTML(t *testing.T) {
	ctx := context.Background()
	a, err := OpenAccount(ctx, AccountConfig{Name: "local", Email: "ann@example.test", Mode: ModePOP3}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	alt := "Subject: news\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n" +
		"--b\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Gr=FC=DFe <a href=3D\"https://example.test/\">here</a></p>\r\n--b--\r\n"
	res, err := a.store.Append(ctx, Inbox, strings.NewReader(alt), store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	html, err := a.HTML(ctx, res.ID)
	if err != nil || !strings.Contains(html, `<p>Grüße <a href="https://example.test/">here</a></p>`) {
		t.Fatalf("html %q %v", html, err)
	}
	res, _ = a.store.Append(ctx, Inbox, strings.NewReader("Subject: plain\r\n\r\njust text\r\n"), store.AppendOptions{})
	if _, err := a.HTML(ctx, res.ID); !errors.Is(err, ErrNoHTML) {
		t.Fatalf("plain message: %v", err)
	}
}
