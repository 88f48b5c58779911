package mailgen

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// draft is what plan decided about the next message.
type draft struct {
	from     *person
	to, cc   []*person
	list     *mailingList
	subject  string // decoded
	lang     int
	charset  string
	date     time.Time
	id       string
	root     string
	refs     []string // References; the last one is In-Reply-To
	parent   *node    // replied-to message, for the attribution line
	robot    bool
	greetTo  *person
	newsHost string
}

// plan decides the next message's place in a thread, its people, subject,
// language and charset, and records it in its thread.
func (g *Generator) plan() *draft {
	d := &draft{date: g.date()}
	var th *thread
	parent := -1
	switch {
	case len(g.open) > 0 && g.rng.pct(replyPct):
		th, parent = g.pickParent()
		pn := th.nodes[parent] // a copy: th.nodes may grow below
		d.parent = &pn
		d.refs = th.references(parent)
		d.subject = "Re: " + th.subject
		d.lang = th.lang
		switch {
		case th.list >= 0:
			d.from = g.somebody()
		case pn.from == g.owner:
			d.from = th.nodes[0].from
			if d.from == g.owner || g.rng.pct(40) {
				d.from = g.speaker(th.lang)
			}
		case g.rng.pct(15):
			d.from = g.owner
		case th.nodes[0].from != pn.from && g.rng.pct(50):
			d.from = th.nodes[0].from
		default:
			d.from = g.speaker(th.lang)
		}
		d.greetTo = pn.from
	case g.rng.pct(robotPct):
		d.robot = true
		ri := g.rng.intn(len(robots))
		d.from = g.robots[ri]
		d.subject = string(g.expand(nil, parseTemplate(robots[ri].subject), "", style{}))
		d.newsHost = d.from.domain
	default:
		th = &thread{list: -1, heat: g.newHeat()}
		if g.rng.pct(foreignPct) {
			th.lang = 1 + g.rng.intn(len(langs)-1)
		}
		d.lang = th.lang
		d.from = g.speaker(th.lang)
		if th.lang == 0 {
			th.subject = string(g.expand(nil, g.voc.subjects[g.rng.intn(len(g.voc.subjects))], "", style{}))
		} else {
			th.subject = g.rng.pick(langs[th.lang].subjects)
		}
		if g.rng.pct(listPct) {
			th.list = g.rng.intn(len(mailingLists))
			th.subject = mailingLists[th.list].tag + th.subject
		}
		d.subject = th.subject
		g.openThread(th)
	}
	if th != nil && th.list >= 0 {
		d.list = &mailingLists[th.list]
	}
	if d.from == nil {
		d.from = g.owner
	}

	// Recipients.
	switch {
	case d.robot || d.list != nil:
		d.to = []*person{g.owner}
		if d.list != nil && d.parent != nil && d.parent.from != d.from && g.rng.pct(30) {
			d.cc = []*person{d.parent.from}
		}
	case d.from == g.owner:
		d.to = []*person{d.parent.from}
	default:
		d.to = []*person{g.owner}
		if g.rng.pct(15) {
			for range g.rng.between(1, 3) {
				if p := g.somebody(); p != d.from {
					d.cc = append(d.cc, p)
				}
			}
		}
	}
	if d.greetTo == nil || d.greetTo == d.from {
		d.greetTo = d.to[0]
	}

	d.charset = g.rng.weighted(langs[d.lang].charsets)
	if d.robot {
		d.charset = csUTF8
	}
	d.date = d.date.In(d.from.zone)
	d.id = g.messageID(d.from, g.seq, d.date)
	d.root = d.id
	if th != nil {
		nd := node{id: d.id, parent: parent, from: d.from, date: d.date}
		if parent >= 0 {
			nd.depth = th.nodes[parent].depth + 1
			d.root = th.nodes[0].id
		}
		g.addNode(th, nd)
	}
	return d
}

// sizeBuckets are the target sizes of a message without attachments, in
// bytes, with their weights.
var sizeBuckets = []struct{ lo, hi, weight int }{
	{1500, 3000, 15}, {3000, 6000, 30}, {6000, 12000, 30},
	{12000, 24000, 18}, {24000, 48000, 5}, {48000, 96000, 2},
}

// targetSize draws the size a message without attachments aims at.
func (g *Generator) targetSize() int {
	n := g.rng.intn(100)
	for _, b := range sizeBuckets {
		if n < b.weight {
			return g.rng.between(b.lo, b.hi)
		}
		n -= b.weight
	}
	return 4000
}

// body shapes.
const (
	shapePlain = iota
	shapeAlt
	shapeHTML
)

// compose writes the message d describes.
func (g *Generator) compose(d *draft) Message {
	withAtt := !d.robot && g.opts.AttachmentRate > 0 && g.rng.r.Float64() < g.opts.AttachmentRate
	shape := shapePlain
	switch n := g.rng.intn(100); {
	case d.robot:
		shape = shapeHTML
	case n < 2 && !withAtt:
		shape = shapeHTML
	case n < 34:
		shape = shapeAlt
	}
	target := g.targetSize() - 1500
	switch shape {
	case shapeAlt:
		target = target * 2 / 5
	case shapeHTML:
		target = target / 2
	}
	words := []string{
		uniqueWord(g.seq, g.salt),
		nouns[len(nouns)/2+g.rng.intn(len(nouns)-len(nouns)/2)],
	}
	for {
		w := nouns[len(nouns)/2+g.rng.intn(len(nouns)-len(nouns)/2)]
		if w != words[1] {
			words = append(words, w)
			break
		}
	}
	blocks := g.blocks(d, max(target, 300), words)

	host := "wiki." + d.from.domain
	var parts []entity
	if shape != shapeHTML {
		g.plain = renderPlain(g.plain[:0], blocks)
		parts = append(parts, g.textEntity("plain", d.charset, g.plain))
	}
	switch {
	case d.robot:
		g.html = g.newsletter(g.html[:0], d.from, d.subject, blocks, d.newsHost)
		parts = append(parts, g.textEntity("html", csUTF8, g.html))
	case shape != shapePlain:
		g.html = g.renderHTML(g.html[:0], blocks, d.charset, host)
		parts = append(parts, g.textEntity("html", d.charset, g.html))
	}

	buf := &g.buf
	buf.Reset()
	g.header(buf, d)
	switch {
	case withAtt:
		outer := g.boundary(1, d.from.mailer)
		field(buf, "Content-Type", `multipart/mixed; boundary="`+outer+`"`)
		g.trailer(buf, d)
		buf.WriteString("\r\n")
		if g.rng.pct(50) {
			buf.WriteString("This is a multi-part message in MIME format.\r\n")
		}
		buf.WriteString("\r\n--" + outer + "\r\n")
		if len(parts) == 1 {
			parts[0].part(buf)
		} else {
			g.alternative(buf, parts, d.from.mailer, nil)
		}
		for range g.attachmentCount() {
			buf.WriteString("\r\n--" + outer + "\r\n")
			g.attachment(buf)
		}
		buf.WriteString("\r\n--" + outer + "--\r\n")
	case len(parts) == 2:
		g.alternative(buf, parts, d.from.mailer, d)
	default:
		parts[0].header(buf)
		g.trailer(buf, d)
		buf.WriteString("\r\n")
		parts[0].body(buf)
	}
	return Message{
		Raw:           bytes.Clone(buf.Bytes()),
		MessageID:     d.id,
		Subject:       d.subject,
		From:          d.from.addr,
		Date:          d.date,
		ThreadRoot:    d.root,
		HasAttachment: withAtt,
		Words:         words,
	}
}

// alternative appends a multipart/alternative entity of parts. At the top
// level d is the message, whose remaining header fields go after the
// Content-Type; in a multipart/mixed d is nil.
func (g *Generator) alternative(buf *bytes.Buffer, parts []entity, style int, d *draft) {
	b := g.boundary(2, style)
	field(buf, "Content-Type", `multipart/alternative; boundary="`+b+`"`)
	if d != nil {
		g.trailer(buf, d)
	}
	buf.WriteString("\r\n")
	for _, p := range parts {
		buf.WriteString("\r\n--" + b + "\r\n")
		p.part(buf)
	}
	buf.WriteString("\r\n--" + b + "--\r\n")
}

// header appends the message header fields up to MIME-Version.
func (g *Generator) header(buf *bytes.Buffer, d *draft) {
	field(buf, "Return-Path", "<"+d.from.addr+">")
	// Received fields, the last hop on top: each later than the one below.
	stamps := make([]time.Time, g.rng.between(1, 3))
	t := d.date
	for i := len(stamps) - 1; i >= 0; i-- {
		t = t.Add(time.Duration(g.rng.between(1, 40)) * time.Second)
		stamps[i] = t.UTC()
	}
	hops := len(stamps)
	for i, t := range stamps {
		from := "mail." + d.from.domain
		if i < hops-1 {
			from = "relay" + fmt.Sprint(i+1) + ".example.net"
		}
		field(buf, "Received", fmt.Sprintf("from %s (%s [%s]) by mx%d.example.com (Postfix) with ESMTPS id %X for <%s>; %s",
			from, from, testIP(g.rng.intn(3*254)), i+1, g.rng.r.Int63()&0xffffffffff, ownerAddr,
			t.Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")))
	}
	if g.rng.pct(30) {
		field(buf, "DKIM-Signature", fmt.Sprintf("v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=s%d; t=%d; h=from:to:subject:date:message-id; bh=%s; b=%s",
			d.from.domain, g.rng.between(1, 3), d.date.Unix(), g.randB64(32), g.randB64(128)))
	}
	field(buf, "Date", dateHeader(d.from, d.date))
	field(buf, "From", g.address(d.from))
	if d.list != nil && !d.robot {
		field(buf, "To", d.list.name+" <"+d.list.post+">")
	} else {
		field(buf, "To", g.addresses(d.to))
	}
	if len(d.cc) > 0 {
		field(buf, "Cc", g.addresses(d.cc))
	}
	subjCS := csUTF8
	switch d.charset {
	case csLatin1, csCP1252, csKOI8R, csISO2022:
		if g.rng.pct(70) {
			subjCS = d.charset
		}
	case csShiftJIS:
		subjCS = csISO2022
	}
	field(buf, "Subject", g.encodeText(d.subject, subjCS))
	field(buf, "Message-ID", "<"+d.id+">")
	if n := len(d.refs); n > 0 {
		field(buf, "In-Reply-To", "<"+d.refs[n-1]+">")
		field(buf, "References", "<"+strings.Join(d.refs, "> <")+">")
	}
	field(buf, "MIME-Version", "1.0")
}

// trailer appends the header fields after Content-Type: list headers, the
// mailer, the language.
func (g *Generator) trailer(buf *bytes.Buffer, d *draft) {
	if l := d.list; l != nil {
		local, domain, _ := strings.Cut(l.post, "@")
		field(buf, "List-Id", l.name+" <"+l.id+">")
		field(buf, "List-Post", "<mailto:"+l.post+">")
		field(buf, "List-Unsubscribe", "<mailto:"+local+"-unsubscribe@"+domain+">, <https://lists."+domain+"/unsubscribe/"+local+">")
		field(buf, "List-Archive", "<https://lists."+domain+"/archive/"+local+"/>")
		field(buf, "Precedence", "list")
	}
	if d.robot {
		field(buf, "List-Unsubscribe", "<"+d.from.listURL+"?id="+fmt.Sprint(g.seq)+">")
		field(buf, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		field(buf, "Precedence", "bulk")
		return
	}
	name, value, _ := strings.Cut(mailers[d.from.mailer], ": ")
	field(buf, name, value)
	if d.lang != 0 && g.rng.pct(50) {
		field(buf, "Content-Language", langs[d.lang].code)
	}
}

// testIP returns the n-th address (0 <= n < 762) of the documentation
// networks of RFC 5737.
func testIP(n int) string {
	nets := [...]string{"192.0.2.", "198.51.100.", "203.0.113."}
	return nets[n/254] + fmt.Sprint(n%254+1)
}

// addresses formats ps as an address list.
func (g *Generator) addresses(ps []*person) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = g.address(p)
	}
	return strings.Join(s, ", ")
}
