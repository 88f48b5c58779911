package imapd

// BODYSTRUCTURE, BODY and ENVELOPE (RFC 9051 sections 7.5.2 and 2.3.5,
// RFC 3501 section 7.4.2) from the store's own MIME parse: the store
// computes a message's mime.Structure once, with a bounded streaming
// parse, and keeps it in its index (store.Structures). go-imap's
// imapserver.ExtractBodyStructure read the rest of the body into memory
// at every nested message/rfc822 part, so one 239 KB message of 5,000
// levels took 645 MB (issue 12).
//
// The values are those ExtractBodyStructure and ExtractEnvelope gave for
// well-formed mail (TestStructureLikeGoIMAP compares both on a corpus),
// so clients see the same answers as before. Where they differ it is on
// purpose:
//   - nesting stops at mime.MaxNesting levels; a deeper multipart or
//     message part is an opaque application/octet-stream;
//   - an invalid Content-Type is text/plain (RFC 2045 section 5.2), a
//     multipart without boundary or parts is text/plain (go-imap wrote
//     garbage types, or an empty multipart, which made its writer panic);
//   - a part of a multipart/digest without Content-Type is message/rfc822
//     (RFC 2046 section 5.1.5);
//   - dates, addresses and message ids that net/mail rejects are read
//     leniently, as the index reads them;
//   - the body MD5 is NIL as before: go-imap's writer always writes NIL,
//     although mime.Part has the Content-MD5.

import (
	"math"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// imapBodyStructure converts a part to go-imap's body structure, with the
// extension data (BODYSTRUCTURE); the writer leaves it out for BODY.
func imapBodyStructure(p *mime.Part) imap.BodyStructure {
	if p.Type == "multipart" && len(p.Parts) > 0 {
		mp := &imap.BodyStructureMultiPart{
			Subtype: p.Subtype,
			Extended: &imap.BodyStructureMultiPartExt{
				Params:      p.Params,
				Disposition: imapDisposition(p),
				Language:    p.Language,
				Location:    p.Location,
			},
		}
		for _, c := range p.Parts {
			mp.Children = append(mp.Children, imapBodyStructure(c))
		}
		return mp
	}
	sp := &imap.BodyStructureSinglePart{
		Type:        p.Type,
		Subtype:     p.Subtype,
		Params:      p.Params,
		ID:          p.ID,
		Description: p.Description,
		Encoding:    p.Encoding,
		Size:        clampUint32(p.Size),
		Extended: &imap.BodyStructureSinglePartExt{
			Disposition: imapDisposition(p),
			Language:    p.Language,
			Location:    p.Location,
		},
	}
	switch {
	case p.Message != nil:
		sp.MessageRFC822 = &imap.BodyStructureMessageRFC822{
			Envelope:      imapEnvelope(p.Envelope),
			BodyStructure: imapBodyStructure(p.Message),
			NumLines:      p.Lines,
		}
	case p.Type == "text":
		sp.Text = &imap.BodyStructureText{NumLines: p.Lines}
	}
	return sp
}

func imapDisposition(p *mime.Part) *imap.BodyStructureDisposition {
	if p.Disposition == "" {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: p.Disposition, Params: p.DispositionParams}
}

// imapEnvelope converts an envelope. As go-imap did, addresses without a
// domain (a group's name, a bare local part) are left out.
func imapEnvelope(e *mime.Envelope) *imap.Envelope {
	if e == nil {
		return &imap.Envelope{}
	}
	return &imap.Envelope{
		Date:      e.Date,
		Subject:   e.Subject,
		From:      imapAddresses(e.From),
		Sender:    imapAddresses(e.Sender),
		ReplyTo:   imapAddresses(e.ReplyTo),
		To:        imapAddresses(e.To),
		Cc:        imapAddresses(e.Cc),
		Bcc:       imapAddresses(e.Bcc),
		InReplyTo: e.InReplyTo,
		MessageID: e.MessageID,
	}
}

func imapAddresses(list []mime.Address) []imap.Address {
	var out []imap.Address
	for _, a := range list {
		mailbox, host, ok := strings.Cut(a.Addr, "@")
		if !ok {
			continue
		}
		out = append(out, imap.Address{Name: a.Name, Mailbox: mailbox, Host: host})
	}
	return out
}

func clampUint32(n int64) uint32 {
	return uint32(min(max(n, 0), math.MaxUint32))
}
