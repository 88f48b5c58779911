package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestReplaceBodies: several partial messages get their bodies in one
// write unit: sizes, previews, partial marks and full text change; a
// message that is gone and a body that cannot be read fail alone; the
// full text of the batch goes to disk as one FTS5 segment.
func TestReplaceBodies(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const n = 40
	var bodies []Body
	fulls := map[uint32]string{}
	for i := range n {
		head := fmt.Sprintf("From: a@x.test\r\nSubject: partial %d\r\nMessage-ID: <p%d@x>\r\n\r\n", i, i)
		res, err := s.Append(ctx, Inbox, strings.NewReader(head), AppendOptions{Remote: Remote{UID: uint32(100 + i), Partial: true}})
		if err != nil {
			t.Fatal(err)
		}
		full := head[:len(head)-2] + fmt.Sprintf("Content-Type: text/plain\r\n\r\nthe whole body%d okapi\r\n", i)
		fulls[res.UID] = full
		bodies = append(bodies, Body{UID: res.UID, R: strings.NewReader(full)})
	}
	bodies = append(bodies, Body{UID: 9999, R: strings.NewReader("Subject: gone\r\n\r\nx\r\n")})
	bodies = append(bodies, Body{UID: bodies[0].UID, R: io.MultiReader(strings.NewReader("Subject: cut"), errReader{errors.New("cut short")})})
	pages0 := ftsRows(t, s)
	errs, err := s.ReplaceBodies(ctx, Inbox, bodies)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("body %d: %v", i, errs[i])
		}
	}
	if !errors.Is(errs[n], ErrNotFound) {
		t.Errorf("a message that is gone: %v", errs[n])
	}
	if errs[n+1] == nil || !strings.Contains(errs[n+1].Error(), "cut short") {
		t.Errorf("a body that cannot be read: %v", errs[n+1])
	}
	for uid, full := range fulls {
		m, err := s.GetByUID(ctx, Inbox, uid)
		if err != nil || m.Size != int64(len(full)) {
			t.Fatalf("uid %d after replace: %+v %v", uid, m, err)
		}
	}
	if c, err := s.Count(ctx, "okapi", SearchOptions{}); err != nil || c != n {
		t.Fatalf("count okapi = %d, %v", c, err)
	}
	refs, _ := s.RemoteIndex(ctx, Inbox)
	for _, r := range refs {
		if r.Partial {
			t.Fatalf("still partial: %+v", r)
		}
	}
	if d := ftsRows(t, s) - pages0; d > 8 {
		t.Errorf("%d bodies wrote %d full-text pages: a segment per message", n, d)
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
}

// TestRenderPartial: a message synced header first renders as Partial
// (the reader says its text is on its way) until its body replaces it.
func TestRenderPartial(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	head := "From: a@x.test\r\nSubject: later\r\nMessage-ID: <later@x>\r\n\r\n"
	res, err := s.Append(ctx, Inbox, strings.NewReader(head), AppendOptions{Remote: Remote{UID: 7, Partial: true}})
	if err != nil {
		t.Fatal(err)
	}
	whole := mustAppend(t, s, Inbox, coreMsg("whole@x", "whole", "all here"))
	for _, c := range []struct {
		id   int64
		want bool
	}{{res.ID, true}, {whole.ID, false}} {
		r, err := s.Render(ctx, c.id)
		if err != nil || r.Partial != c.want {
			t.Fatalf("render %d: Partial %v, %v; want %v", c.id, r != nil && r.Partial, err, c.want)
		}
	}
	full := head[:len(head)-2] + "Content-Type: text/plain\r\n\r\nthe body\r\n"
	if errs, err := s.ReplaceBodies(ctx, Inbox, []Body{{UID: res.UID, R: strings.NewReader(full)}}); err != nil || errs[0] != nil {
		t.Fatalf("replace: %v %v", err, errs)
	}
	r, err := s.Render(ctx, res.ID)
	if err != nil || r.Partial || !strings.Contains(r.Text, "the body") {
		t.Fatalf("after the body came: %+v %v", r, err)
	}
}
