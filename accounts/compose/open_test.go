package compose

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestOpenRoundTrip: a draft built for the Outbox (as saved in Drafts)
// opens back into the same draft, twice in a row, so editing a draft
// loses nothing: addresses (Bcc too), subject, text, attachments,
// threading. Message-ID and Date are left empty: the edited version is a
// new message.
func TestOpenRoundTrip(t *testing.T) {
	d := &Draft{
		From:       Address{Name: "Ann Lée", Addr: "ann@example.com"},
		ReplyTo:    []Address{{Addr: "team@example.com"}},
		To:         []Address{{Name: "Bob", Addr: "bob@example.net"}},
		Cc:         []Address{{Addr: "carl@example.com"}},
		Bcc:        []Address{{Name: "Secret", Addr: "hidden@example.org"}},
		Subject:    "Re: the plan, ünïcode",
		Body:       "First line, long enough to be wrapped by format=flowed when it is sent over the wire, surely.\n> quoted\n\nCafé.\n\n-- \nAnn\n",
		InReplyTo:  "orig@example.com",
		References: []string{"first@example.com", "orig@example.com"},
		Attachments: []Attachment{
			{Name: "notes.txt", ContentType: "text/plain; charset=utf-8", Data: []byte("some notes\n")},
			{Name: "data.bin", ContentType: "application/octet-stream", Data: []byte{0, 1, 2, 255}},
		},
		Date: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	want := *d
	want.MessageID, want.Date = "", time.Time{}
	cur := d
	for round := range 2 {
		var b bytes.Buffer
		if err := BuildForOutbox(cur, &b); err != nil {
			t.Fatal(err)
		}
		got, err := Open(&b)
		if err != nil {
			t.Fatal(err)
		}
		if got.MessageID != "" || !got.Date.IsZero() {
			t.Errorf("round %d: Message-ID %q, Date %v kept", round, got.MessageID, got.Date)
		}
		for i := range got.Attachments {
			if !bytes.Equal(got.Attachments[i].Data, want.Attachments[i].Data) || got.Attachments[i].Name != want.Attachments[i].Name {
				t.Errorf("round %d: attachment %d = %+v", round, i, got.Attachments[i])
			}
		}
		a, w := *got, want
		a.Attachments, w.Attachments = nil, nil
		if !reflect.DeepEqual(a, w) {
			t.Errorf("round %d:\n got %#v\nwant %#v", round, a, w)
		}
		cur = got
	}
}

// TestOpenForeignDraft: a draft another client wrote (HTML only, no
// format=flowed) opens with its text.
func TestOpenForeignDraft(t *testing.T) {
	raw := strings.Join([]string{
		"From: ann@example.com", "To: bob@example.net", "Subject: hi",
		"Content-Type: text/html; charset=utf-8", "", "<p>Hello <b>Bob</b></p>", ""}, "\r\n")
	d, err := Open(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "hi" || !strings.Contains(d.Body, "Hello Bob") || len(d.To) != 1 {
		t.Errorf("draft %+v", d)
	}
}
