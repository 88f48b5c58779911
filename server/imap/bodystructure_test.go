package imapd

import (
	"bufio"
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/letterbox-mail/letterbox/store/mailgen"
	"github.com/letterbox-mail/letterbox/store/mime"
)

// FuzzBodyStructure builds MIME trees from the fuzzer's bytes
// (mailgen.BuildTree) and converts their mime.Structure to go-imap's
// BODYSTRUCTURE and ENVELOPE. Every tree gives a bounded answer the
// writer accepts; a well-formed tree within the nesting limit gives what
// go-imap's ExtractBodyStructure and ExtractEnvelope give.
//
//	go test ./server/imap -run XXX -fuzz FuzzBodyStructure -fuzztime 10m
func FuzzBodyStructure(f *testing.F) {
	for _, s := range [][]byte{
		{1, 3, 0, 1, 2, 5, 7, 1, 2, 3, 6, 3, 4, 9, 9, 9, 9, 1, 2, 3},
		{2, 6, 200, 15},
		{0x84, 3, 3, 1, 0, 5, 5, 4, 1, 2},
		{4, 3, 4, 2, 3, 1, 7, 0, 5, 2, 2, 5, 1, 3, 3, 0, 0, 1},
		{5, 4, 9, 3, 2, 2, 1, 7, 5, 7, 1, 4, 4, 1, 0, 2, 3, 3, 1},
		{1, 5, 5, 5, 3, 4, 2, 7, 7, 1},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, shape []byte) {
		tree := mailgen.BuildTree(shape)
		st, err := mime.ParseStructure(bytes.NewReader(tree.Raw))
		if err != nil {
			t.Fatal(err)
		}
		got := imapBodyStructure(st.Body)
		if d := bodyDepth(got); d > mime.MaxNesting+1 {
			t.Fatalf("BODYSTRUCTURE %d levels deep", d)
		}
		if !tree.WellFormed || tree.Depth > mime.MaxNesting {
			return
		}
		want := imapserver.ExtractBodyStructure(bytes.NewReader(tree.Raw))
		if !reflect.DeepEqual(normBody(got), normBody(want)) {
			t.Fatalf("BODYSTRUCTURE of\n%s\n got %#v\nwant %#v", tree.Raw, normBody(got), normBody(want))
		}
		h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(tree.Raw)))
		if err != nil {
			t.Fatal(err)
		}
		if g, w := normEnvelope(imapEnvelope(&st.Envelope)), normEnvelope(imapserver.ExtractEnvelope(h)); !reflect.DeepEqual(g, w) {
			t.Fatalf("ENVELOPE of\n%s\n got %#v\nwant %#v", tree.Raw, g, w)
		}
	})
}

// TestBodyStructureConversion runs the seeds of FuzzBodyStructure and a
// few more shapes as a unit test.
func TestBodyStructureConversion(t *testing.T) {
	for _, shape := range [][]byte{
		{1, 3, 0, 1, 2, 5, 7, 1, 2, 3, 6, 3, 4, 9, 9, 9, 9, 1, 2, 3},
		{5, 4, 9, 3, 2, 2, 1, 7, 5, 7, 1, 4, 4, 1, 0, 2, 3, 3, 1},
		{1, 5, 5, 5, 3, 4, 2, 7, 7, 1},
		{9, 3, 1, 2, 3, 3, 3, 0, 1, 4, 1, 1, 7, 2, 2, 2},
	} {
		tree := mailgen.BuildTree(shape)
		st, _ := mime.ParseStructure(bytes.NewReader(tree.Raw))
		got, want := normBody(imapBodyStructure(st.Body)), normBody(imapserver.ExtractBodyStructure(bytes.NewReader(tree.Raw)))
		if tree.WellFormed && !reflect.DeepEqual(got, want) {
			t.Errorf("BODYSTRUCTURE of\n%s\n got %#v\nwant %#v", tree.Raw, got, want)
		}
	}
}

func bodyDepth(bs imap.BodyStructure) int {
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		d := 0
		for _, c := range bs.Children {
			d = max(d, bodyDepth(c))
		}
		return d + 1
	case *imap.BodyStructureSinglePart:
		if bs.MessageRFC822 != nil {
			return bodyDepth(bs.MessageRFC822.BodyStructure) + 1
		}
	}
	return 1
}

// normBody makes two body structures that go-imap writes the same way
// equal: empty maps and lists are nil, the encoding is what is written.
func normBody(bs imap.BodyStructure) imap.BodyStructure {
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		out := *bs
		out.Children = nil
		for _, c := range bs.Children {
			out.Children = append(out.Children, normBody(c))
		}
		if bs.Extended != nil {
			ext := *bs.Extended
			ext.Params, ext.Disposition, ext.Language = normMap(ext.Params), normDisp(ext.Disposition), normList(ext.Language)
			out.Extended = &ext
		}
		return &out
	case *imap.BodyStructureSinglePart:
		out := *bs
		out.Params = normMap(bs.Params)
		out.Encoding = strings.ToLower(bs.Encoding)
		if out.Encoding == "" {
			out.Encoding = "7bit"
		}
		if m := bs.MessageRFC822; m != nil {
			out.MessageRFC822 = &imap.BodyStructureMessageRFC822{Envelope: normEnvelope(m.Envelope), BodyStructure: normBody(m.BodyStructure), NumLines: m.NumLines}
		}
		if bs.Extended != nil {
			ext := *bs.Extended
			ext.Disposition, ext.Language = normDisp(ext.Disposition), normList(ext.Language)
			out.Extended = &ext
		}
		return &out
	}
	return bs
}

func normMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func normList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

func normDisp(d *imap.BodyStructureDisposition) *imap.BodyStructureDisposition {
	if d == nil {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: d.Value, Params: normMap(d.Params)}
}

// normEnvelope is an envelope as the writer sends it: Sender and Reply-To
// default to From, the date is what its text says.
func normEnvelope(e *imap.Envelope) *imap.Envelope {
	if e == nil {
		e = &imap.Envelope{}
	}
	w := &imap.Envelope{Subject: e.Subject, From: normAddrs(e.From), Sender: normAddrs(e.Sender), ReplyTo: normAddrs(e.ReplyTo),
		To: normAddrs(e.To), Cc: normAddrs(e.Cc), Bcc: normAddrs(e.Bcc), InReplyTo: normList(e.InReplyTo), MessageID: e.MessageID}
	if w.Sender == nil {
		w.Sender = w.From
	}
	if w.ReplyTo == nil {
		w.ReplyTo = w.From
	}
	if !e.Date.IsZero() {
		w.Date, _ = time.Parse(time.RFC1123Z, e.Date.Format(time.RFC1123Z))
	}
	return w
}

func normAddrs(l []imap.Address) []imap.Address {
	if len(l) == 0 {
		return nil
	}
	return l
}
