package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBccNotInOtherCopies: alice sends To dave@b.test and carol@a.test,
// with bob@a.test as a Bcc (envelope only). No copy names a recipient
// but its own: dave's (through the queue) names neither bob nor carol,
// and each local copy has its own Return-Path and "for" clause.
func TestBccNotInOtherCopies(t *testing.T) {
	b := testServer(t, "b.test", []string{"dave@b.test"}, nil)
	res := mapResolver{
		mx:    map[string][]*net.MX{"b.test": {{Host: "mx.b.test.", Pref: 10}}},
		hosts: map[string][]string{"mx.b.test": {"127.0.0.1"}},
	}
	a := testServer(t, "a.test", []string{"alice@a.test", "bob@a.test", "carol@a.test"}, func(s *Server) {
		s.Resolver, s.RemotePort = res, port(b.Addr("smtp"))
		s.QueuePoll = 50 * time.Millisecond
	})
	body := "From: alice@a.test\r\nTo: dave@b.test, carol@a.test\r\nSubject: plans\r\n\r\nsecret plans\r\n"
	if err := smtpSubmit(a.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test",
		[]string{"dave@b.test", "bob@a.test", "carol@a.test"}, body); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery to b.test", 10*time.Second, func() bool { return len(inbox(t, b, "dave@b.test")) == 1 })
	dave := inbox(t, b, "dave@b.test")[0]
	if strings.Contains(dave, "bob@a.test") {
		t.Errorf("dave's copy names the Bcc recipient:\n%s", dave)
	}
	if strings.Count(dave, "Return-Path:") != 1 || !strings.HasPrefix(dave, "Return-Path: <alice@a.test>\r\n") {
		t.Errorf("dave's copy should have exactly one Return-Path, b.test's:\n%s", dave)
	}
	for _, u := range []string{"bob@a.test", "carol@a.test"} {
		got := inbox(t, a, u)
		if len(got) != 1 || !strings.HasSuffix(got[0], body) {
			t.Fatalf("%s INBOX = %q", u, got)
		}
		head := strings.TrimSuffix(got[0], body)
		if !strings.HasPrefix(head, "Return-Path: <alice@a.test>\r\nReceived: ") || !strings.Contains(head, "\tfor <"+u+">;") {
			t.Errorf("%s's copy lacks its own trace fields:\n%s", u, head)
		}
		for _, other := range []string{"bob@a.test", "carol@a.test", "dave@b.test"} {
			if other != u && strings.Contains(head, other) {
				t.Errorf("%s's trace fields name %s:\n%s", u, other, head)
			}
		}
	}
}

// TestFailedDeliveryPublishesNothing: when one recipient's store fails,
// no other recipient gets a copy, and none is announced to a subscriber
// (IDLE, POP3) even for a moment.
func TestFailedDeliveryPublishesNothing(t *testing.T) {
	s := testServer(t, "a.test", []string{"alice@a.test", "bob@a.test", "carol@a.test"}, nil)
	ctx := context.Background()
	bob, err := s.Backend.Store(ctx, "bob@a.test")
	if err != nil {
		t.Fatal(err)
	}
	sub := bob.Subscribe()
	defer sub.Close()
	carol, err := s.Backend.Store(ctx, "carol@a.test")
	if err != nil {
		t.Fatal(err)
	}
	// carol's INBOX cannot take files: tmp/ is a file (root ignores
	// permissions).
	tmp := filepath.Join(carol.Root(), "mail", "INBOX", "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tmp, nil, 0o600)
	err = smtpSubmit(s.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test",
		[]string{"bob@a.test", "carol@a.test"}, "Subject: second\r\n\r\nx\r\n")
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("delivery with a failing store: %v, want 451", err)
	}
	// Changes are published before the reply is sent, so one would be
	// pending by now.
	select {
	case <-sub.C:
		t.Errorf("bob's store announced changes for a refused message: %+v", sub.Pull())
	default:
	}
	if n := len(inbox(t, s, "bob@a.test")); n != 0 {
		t.Errorf("bob has %d messages after a refused delivery", n)
	}
	os.Remove(tmp)
	os.Mkdir(tmp, 0o700)
}

// TestLongLineThroughSmtplib: a 10,000-octet line sent by Python's
// smtplib is stored unchanged.
func TestLongLineThroughSmtplib(t *testing.T) {
	s := testServer(t, "a.test", []string{"alice@a.test", "bob@a.test"}, nil)
	body := "From: alice@a.test\r\nSubject: wide\r\n\r\n" + strings.Repeat("<td>cell</td>", 800) + "\r\n"
	if err := smtpSubmit(s.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test", []string{"bob@a.test"}, body); err != nil {
		t.Fatal(err)
	}
	got := inbox(t, s, "bob@a.test")
	if len(got) != 1 || !strings.HasSuffix(got[0], body) {
		t.Fatalf("long line not stored unchanged: %d messages", len(got))
	}
}
