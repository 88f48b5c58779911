package mailgen

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// blocks writes the body of d: greeting, text of about target bytes with
// the distinctive words planted in it, sign-off, signature and, in a reply,
// an attribution line and quoted text.
func (g *Generator) blocks(d *draft, target int, words []string) []block {
	l := &langs[d.lang]
	var st style
	switch d.charset {
	case csUTF8:
		st = style{accents: g.rng.pct(15), smart: g.rng.pct(15)}
	case csLatin1:
		st.accents = g.rng.pct(50)
	case csCP1252:
		st = style{accents: g.rng.pct(50), smart: true}
	}
	var bs []block
	if d.robot {
		for size := 0; size < target || len(bs) < 2; {
			p := g.paragraph(st)
			bs = append(bs, block{kind: bPara, text: p})
			size += len(p) + 400 // the markup around each section
		}
		g.plant(bs, words, st)
		return bs
	}

	name := d.greetTo.first
	if d.list != nil && d.lang == 0 {
		name = "all"
	}
	if d.lang == 0 {
		bs = append(bs, block{kind: bLine, text: fmt.Sprintf(g.rng.pick(greetings), name)})
	} else {
		bs = append(bs, block{kind: bLine, text: fmt.Sprintf(l.greeting, name)})
		for range g.rng.between(1, 2) {
			if l.cjk {
				bs = append(bs, block{kind: bCJK, text: g.foreignParagraph(l)})
			} else {
				bs = append(bs, block{kind: bPara, text: wrap(g.foreignParagraph(l), 72)})
			}
		}
	}
	english := len(bs)
	for size := 0; size < target || len(bs) == english; {
		p := g.paragraph(st)
		bs = append(bs, block{kind: bPara, text: p})
		size += len(p)
		if g.rng.pct(4) {
			bs = append(bs, block{kind: bLink, text: fmt.Sprintf("https://wiki.%s/%s/%s-%d",
				d.from.domain, g.noun(), g.noun(), g.rng.between(1, 9999))})
		}
	}
	g.plant(bs[english:], words, st)
	if g.rng.pct(2) {
		bs = append(bs, block{kind: bRaw, text: ">From the minutes of the " + g.noun() + " meeting:"})
	}

	signoff := l.signoff
	if d.lang == 0 {
		signoff = g.rng.pick(signoffs)
	}
	bs = append(bs, block{kind: bLine, text: signoff + "\n" + d.from.first})
	if g.rng.pct(50) {
		company := strings.SplitN(d.from.domain, ".", 2)[0]
		company = strings.ToUpper(company[:1]) + company[1:]
		sig := d.from.full
		if sig == "" {
			sig = d.from.addr
		}
		bs = append(bs, block{kind: bSig, text: sig + "\n" + d.from.title + ", " + company})
	}
	if d.parent != nil {
		bs = append(bs, block{kind: bQuoteHead, text: attribution(d.parent, d.lang)})
		for i := range g.rng.between(1, 3) {
			text := g.paragraph(st)
			if d.lang != 0 && i == 0 {
				text = g.foreignParagraph(l)
			}
			bs = append(bs, block{kind: bQuote, depth: 1, text: text})
		}
		if d.parent.depth > 0 && g.rng.pct(40) {
			bs = append(bs, block{kind: bQuote, depth: 2, text: g.paragraph(st)})
		}
	}
	return bs
}

// plant adds one sentence for each word to a random paragraph of bs.
func (g *Generator) plant(bs []block, words []string, st style) {
	var paras []int
	for i, b := range bs {
		if b.kind == bPara {
			paras = append(paras, i)
		}
	}
	for _, w := range words {
		i := paras[g.rng.intn(len(paras))]
		bs[i].text = wrap(bs[i].text+" "+g.sentenceWith(w, st), 72)
	}
}

// attribution is the line introducing the quoted parent, as mailers write
// it in each language.
func attribution(p *node, li int) string {
	who := p.from.addr
	if p.from.full != "" {
		who = p.from.full + " <" + p.from.addr + ">"
	}
	t := p.date
	switch langs[li].code {
	case "de":
		return t.Format("Am 02.01.2006 um 15:04 schrieb ") + who + ":"
	case "fr":
		return t.Format("Le 02/01/2006 à 15:04, ") + who + " a écrit :"
	case "ru":
		return t.Format("02.01.2006 15:04, ") + who + " пишет:"
	case "ja":
		return fmt.Sprintf("%d年%d月%d日 %s %s:", t.Year(), int(t.Month()), t.Day(), t.Format("15:04"), who)
	case "zh":
		return fmt.Sprintf("在 %d年%d月%d日 %s，%s 写道：", t.Year(), int(t.Month()), t.Day(), t.Format("15:04"), who)
	}
	return t.Format("On Mon, Jan 2, 2006 at 3:04 PM, ") + who + " wrote:"
}

// attKinds are the attachment types, with the magic bytes their content
// starts with; the rest is random.
var attKinds = []struct{ ctype, ext, magic string }{
	{"application/pdf", "pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"},
	{"image/png", "png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
	{"image/jpeg", "jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"},
	{"application/zip", "zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00"},
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
		"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml"},
	{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx",
		"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml"},
}

// File names of attachments: ASCII templates and non-ASCII names.
var (
	asciiStems = []string{"{N}-{N}", "{N} {N} v{#}", "IMG_{#}", "Scan {#}", "{A}_{N}_final",
		"Invoice-{#}", "{N} report", "{A} {N} ({#})"}
	foreignStems = []string{"Präsentation Übersicht", "Résumé Hélène", "Отчёт за квартал", "会議資料",
		"写真", "报告", "Größenvergleich", "Numéro de facture", "Счёт", "見積書", "Café menu été",
		"Übersicht der Änderungen für das nächste Quartal", "Отчёт за третий квартал 2025"}
)

// attachmentCount draws how many attachments a message has: 1 to 3.
func (g *Generator) attachmentCount() int {
	switch n := g.rng.intn(100); {
	case n < 80:
		return 1
	case n < 95:
		return 2
	}
	return 3
}

// attachment appends a base64 attachment part of 20 to 500 KB, sizes
// spread evenly over doublings (20-40, 40-80, ... KB).
func (g *Generator) attachment(buf *bytes.Buffer) {
	k := attKinds[g.rng.intn(len(attKinds))]
	var stem string
	if g.rng.pct(35) {
		stem = g.rng.pick(foreignStems)
	} else {
		stem = string(g.expand(nil, parseTemplate(g.rng.pick(asciiStems)), "", style{}))
	}
	name := stem + "." + k.ext
	b := g.rng.intn(5)
	lo, hi := 20<<(b+10), 40<<(b+10)
	if b == 4 {
		hi = 500 << 10
	}
	size := g.rng.between(lo, hi)
	if cap(g.att) < size {
		g.att = make([]byte, 500<<10)
	}
	data := g.att[:size]
	copy(data, k.magic)
	fillRandom(data[len(k.magic):], g.rng.r.Uint64())
	field(buf, "Content-Type", k.ctype+param("name", name))
	disp := "attachment" + param("filename", name)
	if g.rng.pct(30) {
		disp += fmt.Sprintf("; size=%d", size)
	}
	field(buf, "Content-Disposition", disp)
	field(buf, "Content-Transfer-Encoding", cteBase64)
	buf.WriteString("\r\n")
	writeBase64(buf, data)
}

// fillRandom fills b with the splitmix64 stream of seed: as random as
// attachment content needs to look, and several times faster than
// rand.Read.
func fillRandom(b []byte, seed uint64) {
	for len(b) > 0 {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		if len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, z)
			b = b[8:]
			continue
		}
		for i := range b {
			b[i] = byte(z >> (8 * i))
		}
		return
	}
}

// randB64 returns n random bytes in base64, for signatures and hashes.
func (g *Generator) randB64(n int) string {
	b := make([]byte, n)
	g.rng.r.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
