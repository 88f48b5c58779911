package mailgen

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// person is a sender or recipient. Its habits (time zone, mailer, date and
// Message-ID style) stay the same across its messages.
type person struct {
	full    string // display name, unencoded; "" for a bare address
	first   string // for greetings
	addr    string
	domain  string
	lang    int
	zone    *time.Location
	mailer  int // index in mailers
	style   int // Date and Message-ID style
	title   string
	listURL string // robots: where List-Unsubscribe points
}

// titles are job titles for signatures.
var titles = []string{
	"Product Manager", "Senior Software Engineer", "Office Manager", "Head of Finance",
	"Account Executive", "Designer", "Research Scientist", "Operations Lead",
	"Customer Success", "CTO", "Paralegal", "Site Reliability Engineer",
}

// buildPeople fills the sender pool: nPeople humans, 80% English, with
// unique addresses, plus the robots and the mailbox owner.
func (g *Generator) buildPeople() {
	seen := map[string]bool{ownerAddr: true} // look-ups only, never iterated
	g.byLang = make([][]int, len(langs))
	for len(g.people) < nPeople {
		li := 0
		if g.rng.pct(foreignPct) {
			li = 1 + g.rng.intn(len(langs)-1)
		}
		l := &langs[li]
		f, la := l.first[g.rng.intn(len(l.first))], l.last[g.rng.intn(len(l.last))]
		domain := g.rng.pick(langs[0].domains)
		if g.rng.pct(70) {
			domain = g.rng.pick(l.domains)
		}
		var local string
		switch g.rng.intn(6) {
		case 0, 1:
			local = f.ascii + "." + la.ascii
		case 2:
			local = f.ascii[:1] + la.ascii
		case 3:
			local = f.ascii
		case 4:
			local = f.ascii + "_" + la.ascii
		default:
			local = la.ascii + "." + f.ascii[:1]
		}
		local = strings.ReplaceAll(local, "'", "")
		addr := local + "@" + domain
		for n := 2; seen[addr]; n++ {
			addr = local + strconv.Itoa(n) + "@" + domain
		}
		seen[addr] = true
		p := &person{
			first:  f.display,
			addr:   addr,
			domain: domain,
			lang:   li,
			zone:   fixedZone(l.zones[g.rng.intn(len(l.zones))]),
			mailer: g.rng.intn(len(mailers)),
			style:  g.rng.intn(4),
			title:  g.rng.pick(titles),
		}
		switch {
		case l.code == "ja":
			p.full = la.display + " " + f.display
		case l.code == "zh":
			p.full = la.display + f.display
		case li == 0 && g.rng.pct(4):
			p.full = la.display + ", " + f.display
		default:
			p.full = f.display + " " + la.display
		}
		if g.rng.pct(5) {
			p.full = ""
		}
		g.byLang[li] = append(g.byLang[li], len(g.people))
		g.people = append(g.people, p)
	}
	for _, r := range robots {
		_, domain, _ := strings.Cut(r.addr, "@")
		g.robots = append(g.robots, &person{
			full: r.name, first: r.name, addr: r.addr, domain: domain,
			zone: fixedZone(0), style: 0,
			listURL: "https://www." + domain + "/unsubscribe",
		})
	}
	g.owner = &person{full: ownerName, first: "Alex", addr: ownerAddr, domain: "example.com",
		zone: fixedZone(60), mailer: 0, style: 1, title: "Engineering Manager"}
}

// fixedZone returns a zone minutes east of UTC, with no name, so that no
// time zone database is consulted.
func fixedZone(minutes int) *time.Location { return time.FixedZone("", minutes*60) }

// somebody draws a human sender: frequent writers often, others seldom.
func (g *Generator) somebody() *person { return g.people[g.rng.zipf(g.voc.people)] }

// speaker draws a sender for language li: mostly one who speaks it.
func (g *Generator) speaker(li int) *person {
	if li != 0 && len(g.byLang[li]) > 0 && g.rng.pct(80) {
		return g.people[g.byLang[li][g.rng.intn(len(g.byLang[li]))]]
	}
	p := g.somebody()
	if li == 0 && p.lang != 0 && g.rng.pct(60) {
		p = g.somebody() // English threads are mostly among English speakers
	}
	return p
}

// address formats p for an address header: RFC 2047 encoded if its name is
// not ASCII (UTF-8, or Latin-1 for some Western names), quoted if needed.
func (g *Generator) address(p *person) string {
	if p.full == "" {
		return p.addr
	}
	if isASCII([]byte(p.full)) {
		return (&mail.Address{Name: p.full, Address: p.addr}).String()
	}
	cs := csUTF8
	if l := langs[p.lang].code; (l == "de" || l == "fr") && g.rng.pct(40) {
		cs = csLatin1
	}
	return g.encodeText(p.full, cs) + " <" + p.addr + ">"
}

// thread is an open conversation replies can join.
type thread struct {
	subject string // base subject, with a list tag but without "Re: "
	lang    int
	list    int // index in mailingLists, or -1
	heat    int // how strongly the thread draws replies
	nodes   []node
}

// newHeat draws a thread's heat: most threads are quiet, a few draw long
// discussions.
func (g *Generator) newHeat() int {
	switch n := g.rng.intn(100); {
	case n < 78:
		return 1
	case n < 93:
		return 3
	case n < 98:
		return 8
	}
	return 24
}

// node is one message of a thread, with what a reply needs of it.
type node struct {
	id     string
	parent int // index in nodes; -1 for the root
	depth  int
	from   *person
	date   time.Time
}

// pickParent chooses a thread, by heat and recency (weight heat/(k+2) for
// the k-th most recently active), and a message in it to reply to: usually
// the latest, sometimes an earlier one. The thread becomes the most
// recently active.
func (g *Generator) pickParent() (*thread, int) {
	n := len(g.open)
	total := 0
	for k := range n {
		total += g.open[n-1-k].heat * 1024 / (k + 2)
	}
	x := g.rng.r.Intn(total)
	i := 0
	for k := range n {
		i = n - 1 - k
		if x -= g.open[i].heat * 1024 / (k + 2); x < 0 {
			break
		}
	}
	th := g.open[i]
	copy(g.open[i:], g.open[i+1:])
	g.open[n-1] = th
	p := len(th.nodes) - 1
	if g.rng.pct(35) {
		p = g.rng.intn(len(th.nodes))
	}
	if th.nodes[p].depth >= maxDepth {
		// Too deep: branch off a random ancestor instead.
		for d := g.rng.intn(maxDepth); th.nodes[p].depth > d; {
			p = th.nodes[p].parent
		}
	}
	return th, p
}

// addNode records a message in th, closing th when it is full.
func (g *Generator) addNode(th *thread, nd node) {
	th.nodes = append(th.nodes, nd)
	if len(th.nodes) >= maxNodes {
		for i, t := range g.open {
			if t == th {
				g.open = append(g.open[:i], g.open[i+1:]...)
				break
			}
		}
	}
}

// openThread makes th the most recently active thread, dropping the least
// recently active one beyond maxOpen.
func (g *Generator) openThread(th *thread) {
	g.open = append(g.open, th)
	if len(g.open) > maxOpen {
		copy(g.open, g.open[1:])
		g.open = g.open[:maxOpen]
	}
}

// references returns the References chain of a reply to nodes[p]: the ids
// from the root down to the parent.
func (th *thread) references(p int) []string {
	refs := make([]string, th.nodes[p].depth+1)
	for i := len(refs) - 1; i >= 0; i-- {
		refs[i] = th.nodes[p].id
		p = th.nodes[p].parent
	}
	return refs
}

// messageID returns a unique Message-ID (without brackets) for message
// seq in the style of p's mailer. Every style embeds seq, so ids never
// collide within a corpus.
func (g *Generator) messageID(p *person, seq int, date time.Time) string {
	r := g.rng.r.Uint64()
	switch p.style {
	case 0:
		return fmt.Sprintf("%016x.%d@%s", r, seq, p.domain)
	case 1:
		return fmt.Sprintf("CA+%012X%x=%d@mail.%s", r>>16, seq, seq%7, p.domain)
	case 2:
		return fmt.Sprintf("%s.%d.%08x@%s", date.UTC().Format("20060102150405"), seq, uint32(r), "smtp."+p.domain)
	}
	return fmt.Sprintf("%08X-%04X-%04X-%04X-%012X@%s", uint32(r), uint16(r>>32), uint16(r>>48),
		uint64(seq)>>48&0xffff, uint64(seq)&0xffffffffffff, p.domain)
}

// dateHeader formats t in one of the RFC 5322 forms p's mailer uses.
func dateHeader(p *person, t time.Time) string {
	switch p.style {
	case 1:
		return t.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	case 2:
		return t.Format("2 Jan 2006 15:04:05 -0700")
	case 3:
		if _, off := t.Zone(); off == 0 {
			return t.Format("Mon, 2 Jan 2006 15:04:05 -0700 (UTC)")
		}
		return t.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	}
	return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
}
