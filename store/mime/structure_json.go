package mime

// The stored form of a Structure: compact JSON with a version, so a
// store can keep a message's structure and compute it only once.

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// structureVersion changes whenever ParseStructure would describe some
// message differently; a stored structure of another version is stale.
const structureVersion = 1

// errStaleStructure means a stored structure was written by another
// version of ParseStructure and must be computed again.
var errStaleStructure = errors.New("stored structure of another version")

type jsonStructure struct {
	V    int          `json:"v"`
	Env  jsonEnvelope `json:"e"`
	Body *jsonPart    `json:"b"`
}

type jsonEnvelope struct {
	Date      *time.Time `json:"d,omitempty"`
	Subject   string     `json:"s,omitempty"`
	From      []Address  `json:"f,omitempty"`
	Sender    []Address  `json:"se,omitempty"`
	ReplyTo   []Address  `json:"r,omitempty"`
	To        []Address  `json:"t,omitempty"`
	Cc        []Address  `json:"c,omitempty"`
	Bcc       []Address  `json:"b,omitempty"`
	MessageID string     `json:"m,omitempty"`
	InReplyTo []string   `json:"i,omitempty"`
	Refs      []string   `json:"rf,omitempty"`
}

type jsonPart struct {
	Type       string            `json:"t"`
	Subtype    string            `json:"s"`
	Params     map[string]string `json:"p,omitempty"`
	ID         string            `json:"id,omitempty"`
	Desc       string            `json:"de,omitempty"`
	Enc        string            `json:"e,omitempty"`
	MD5        string            `json:"md,omitempty"`
	Disp       string            `json:"d,omitempty"`
	DispParams map[string]string `json:"dp,omitempty"`
	Lang       []string          `json:"la,omitempty"`
	Loc        string            `json:"lo,omitempty"`
	Offset     int64             `json:"o,omitempty"`
	HeaderLen  int64             `json:"h,omitempty"`
	Size       int64             `json:"z,omitempty"`
	Lines      int64             `json:"l,omitempty"`
	Parts      []*jsonPart       `json:"c,omitempty"`
	Env        *jsonEnvelope     `json:"env,omitempty"`
	Message    *jsonPart         `json:"m,omitempty"`
}

// MarshalBinary encodes s for storage (encoding.BinaryMarshaler).
func (s *Structure) MarshalBinary() ([]byte, error) {
	b, err := json.Marshal(jsonStructure{V: structureVersion, Env: toJSONEnvelope(&s.Envelope), Body: toJSONPart(s.Body)})
	if err != nil {
		return nil, fmt.Errorf("encode structure: %w", err)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded
// (encoding.BinaryUnmarshaler). Data of another version of
// ParseStructure is an error: the structure is stale and must be
// computed again.
func (s *Structure) UnmarshalBinary(data []byte) error {
	var js jsonStructure
	if err := json.Unmarshal(data, &js); err != nil {
		return fmt.Errorf("decode structure: %w", err)
	}
	if js.V != structureVersion {
		return fmt.Errorf("decode structure: version %d, want %d: %w", js.V, structureVersion, errStaleStructure)
	}
	if js.Body == nil {
		return fmt.Errorf("decode structure: no body")
	}
	*s = Structure{Envelope: fromJSONEnvelope(&js.Env), Body: fromJSONPart(js.Body)}
	return nil
}

func toJSONEnvelope(e *Envelope) jsonEnvelope {
	je := jsonEnvelope{Subject: e.Subject, From: e.From, Sender: e.Sender, ReplyTo: e.ReplyTo, To: e.To, Cc: e.Cc, Bcc: e.Bcc,
		MessageID: e.MessageID, InReplyTo: e.InReplyTo, Refs: e.References}
	if !e.Date.IsZero() {
		d := e.Date
		je.Date = &d
	}
	return je
}

func fromJSONEnvelope(je *jsonEnvelope) Envelope {
	e := Envelope{Subject: je.Subject, From: je.From, Sender: je.Sender, ReplyTo: je.ReplyTo, To: je.To, Cc: je.Cc, Bcc: je.Bcc,
		MessageID: je.MessageID, InReplyTo: je.InReplyTo, References: je.Refs}
	if je.Date != nil {
		e.Date = *je.Date
	}
	return e
}

func toJSONPart(p *Part) *jsonPart {
	if p == nil {
		return nil
	}
	jp := &jsonPart{Type: p.Type, Subtype: p.Subtype, Params: p.Params, ID: p.ID, Desc: p.Description, Enc: p.Encoding,
		MD5: p.MD5, Disp: p.Disposition, DispParams: p.DispositionParams, Lang: p.Language, Loc: p.Location,
		Offset: p.Offset, HeaderLen: p.HeaderLen, Size: p.Size, Lines: p.Lines, Message: toJSONPart(p.Message)}
	for _, c := range p.Parts {
		jp.Parts = append(jp.Parts, toJSONPart(c))
	}
	if p.Envelope != nil {
		je := toJSONEnvelope(p.Envelope)
		jp.Env = &je
	}
	return jp
}

func fromJSONPart(jp *jsonPart) *Part {
	if jp == nil {
		return nil
	}
	p := &Part{Type: jp.Type, Subtype: jp.Subtype, Params: jp.Params, ID: jp.ID, Description: jp.Desc, Encoding: jp.Enc,
		MD5: jp.MD5, Disposition: jp.Disp, DispositionParams: jp.DispParams, Language: jp.Lang, Location: jp.Loc,
		Offset: jp.Offset, HeaderLen: jp.HeaderLen, Size: jp.Size, Lines: jp.Lines, Message: fromJSONPart(jp.Message)}
	for _, c := range jp.Parts {
		p.Parts = append(p.Parts, fromJSONPart(c))
	}
	if jp.Env != nil {
		e := fromJSONEnvelope(jp.Env)
		p.Envelope = &e
	}
	return p
}
