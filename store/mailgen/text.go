package mailgen

import (
	"math/bits"
	"math/rand"
	"strconv"
	"strings"
)

// rng wraps the generator's *rand.Rand. Every draw goes through it, in
// program order, so a seed fixes the whole output. Only integer arithmetic
// and rand's own Float64 are used, never math.Exp and friends, whose last bit
// may differ between architectures.
type rng struct {
	r     *rand.Rand
	cache uint64 // unused random bits for bits14
	nbits uint
}

// intn returns a uniform int in [0, n). Small n, the common case, take 14
// bits of a shared Int63 draw (with a bias below n/16384, harmless here).
func (x *rng) intn(n int) int {
	if n <= 1<<zipfBits {
		return int(uint64(x.bits14()) * uint64(n) >> zipfBits)
	}
	return x.r.Intn(n)
}

// between returns a uniform int in [lo, hi].
func (x *rng) between(lo, hi int) int { return lo + x.intn(hi-lo+1) }

// pct reports true with probability p/100.
func (x *rng) pct(p int) bool { return x.intn(100) < p }

// pick returns a uniformly drawn element of list.
func (x *rng) pick(list []string) string { return list[x.intn(len(list))] }

// weighted returns one value of ws, drawn by weight.
func (x *rng) weighted(ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := x.intn(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

// bits14 returns 14 random bits, four draws per Int63.
func (x *rng) bits14() int {
	if x.nbits < zipfBits {
		x.cache, x.nbits = uint64(x.r.Int63()), 63
	}
	v := int(x.cache & (1<<zipfBits - 1))
	x.cache >>= zipfBits
	x.nbits -= zipfBits
	return v
}

// zipf draws an index of a list with weight 1/(rank+q) by table look-up:
// fast, and the same on every platform.
type zipf []uint16

// zipfBits is the size of zipf tables and of intn's fast draws, in bits.
const zipfBits = 14

// newZipf builds the table for a list of n (at most 1<<zipfBits) entries:
// each entry gets a share of slots proportional to 1/(rank+q), at least one.
func newZipf(n, q int) zipf {
	const size = 1 << zipfBits
	w := make([]uint64, n)
	var total uint64
	for i := range w {
		w[i] = (1 << 40) / uint64(i+q)
		total += w[i]
	}
	slots := make([]int, n)
	used := 0
	for i := range w {
		slots[i] = max(1, int(w[i]*size/total))
		used += slots[i]
	}
	for i := 0; used < size; i = (i + 1) % n {
		slots[i]++
		used++
	}
	for i := 0; used > size; i = (i + 1) % n {
		if slots[i] > 1 {
			slots[i]--
			used--
		}
	}
	t := make(zipf, 0, size)
	for i, s := range slots {
		for range s {
			t = append(t, uint16(i))
		}
	}
	return t
}

// zipf draws an index from table z.
func (x *rng) zipf(z zipf) int { return int(z[x.bits14()]) }

// tok is one piece of a parsed template: literal text or a slot letter.
type tok struct {
	lit  string
	slot byte
}

// parseTemplate splits a template into literals and one-letter {X} slots.
func parseTemplate(s string) []tok {
	var out []tok
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 || i+2 >= len(s) || s[i+2] != '}' {
			out = append(out, tok{lit: s})
			break
		}
		if i > 0 {
			out = append(out, tok{lit: s[:i]})
		}
		out = append(out, tok{slot: s[i+1]})
		s = s[i+3:]
	}
	return out
}

// vocab is the parsed vocabulary with its frequency tables. It is built by
// New and never changes afterwards.
type vocab struct {
	nouns, verbs, adjs, advs, preps, people zipf
	sentences, subjects                     [][]tok
	withNoun                                []int // sentences with an {N} slot
}

// newVocab builds the frequency tables and parses the templates;
// npeople is the number of senders to draw from.
func newVocab(npeople int) *vocab {
	v := &vocab{
		nouns:  newZipf(len(nouns), 5),
		verbs:  newZipf(len(verbs), 4),
		adjs:   newZipf(len(adjectives), 4),
		advs:   newZipf(len(adverbs), 3),
		preps:  newZipf(len(prepositions), 2),
		people: newZipf(npeople, 6),
	}
	for i, s := range templates {
		v.sentences = append(v.sentences, parseTemplate(s))
		if strings.Contains(s, "{N}") {
			v.withNoun = append(v.withNoun, i)
		}
	}
	for _, s := range subjectTemplates {
		v.subjects = append(v.subjects, parseTemplate(s))
	}
	return v
}

// style says which characters English text may use beyond ASCII.
type style struct {
	accents bool // Latin-1 loanwords ({K})
	smart   bool // typographic apostrophes and the euro sign
}

// expand appends template t to b; force, if set, replaces the first noun.
func (g *Generator) expand(b []byte, t []tok, force string, st style) []byte {
	start := len(b)
	for _, k := range t {
		if k.slot == 0 {
			b = append(b, k.lit...)
			continue
		}
		switch k.slot {
		case 'N':
			if force != "" {
				b = append(b, force...)
				force = ""
			} else {
				b = append(b, g.noun()...)
			}
		case 'A':
			b = append(b, adjectives[g.rng.zipf(g.voc.adjs)]...)
		case 'V':
			b = append(b, verbs[g.rng.zipf(g.voc.verbs)]...)
		case 'D':
			b = append(b, adverbs[g.rng.zipf(g.voc.advs)]...)
		case 'P':
			b = append(b, prepositions[g.rng.zipf(g.voc.preps)]...)
		case 'M':
			b = append(b, g.rng.pick(modals)...)
		case 'S':
			b = append(b, g.rng.pick(subjects)...)
		case 'T':
			b = append(b, g.rng.pick(times)...)
		case 'X':
			b = append(b, g.rng.pick(transitions)...)
		case '#':
			b = strconv.AppendInt(b, int64(g.rng.between(2, 500)), 10)
		case 'K':
			if st.accents {
				b = append(b, g.rng.pick(accented)...)
			} else {
				b = append(b, g.noun()...)
			}
		case 'R':
			b = g.nounPhrase(b)
		}
	}
	if start < len(b) && b[start] >= 'a' && b[start] <= 'z' {
		b[start] -= 'a' - 'A'
	}
	return b
}

// noun draws a noun.
func (g *Generator) noun() string { return nouns[g.rng.zipf(g.voc.nouns)] }

// nounPhrase appends a noun phrase: "our budget", "an open issue", ...
func (g *Generator) nounPhrase(b []byte) []byte {
	switch g.rng.intn(7) {
	case 0:
		b = append(b, "our "...)
	case 1:
		adj := adjectives[g.rng.zipf(g.voc.adjs)]
		if strings.IndexByte("aeiou", adj[0]) >= 0 {
			b = append(b, "an "...)
		} else {
			b = append(b, "a "...)
		}
		b = append(b, adj...)
		b = append(b, ' ')
	case 2:
		b = append(b, "the "...)
		b = append(b, g.noun()...)
		b = append(b, ' ')
	case 3:
		b = append(b, "this "...)
	case 4:
		b = append(b, "the "...)
		b = append(b, adjectives[g.rng.zipf(g.voc.adjs)]...)
		b = append(b, ' ')
	case 5:
		b = append(b, "your "...)
	default:
		b = append(b, "the "...)
	}
	return append(b, g.noun()...)
}

// sentenceWith returns an English sentence whose first noun is word.
func (g *Generator) sentenceWith(word string, st style) string {
	t := g.voc.sentences[g.voc.withNoun[g.rng.intn(len(g.voc.withNoun))]]
	g.scratch = g.expand(g.scratch[:0], t, word, st)
	return g.polish(g.scratch, st)
}

// polish returns b as a string, with typographic apostrophes if st.smart.
func (g *Generator) polish(b []byte, st style) string {
	s := string(b)
	if st.smart && strings.IndexByte(s, '\'') >= 0 {
		s = strings.ReplaceAll(s, "'", "’")
	}
	return s
}

// paragraph returns an English paragraph of 2 to 6 sentences, already
// wrapped at 72 columns: newlines are as good as spaces in HTML.
func (g *Generator) paragraph(st style) string {
	b := g.scratch[:0]
	for i := range g.rng.between(2, 6) {
		if i > 0 {
			b = append(b, ' ')
		}
		b = g.expand(b, g.voc.sentences[g.rng.intn(len(g.voc.sentences))], "", st)
	}
	if st.smart && g.rng.pct(5) {
		b = append(b, " The total comes to €"...)
		b = strconv.AppendInt(b, int64(g.rng.between(10, 9999)), 10)
		b = append(b, " – “roughly”, anyway."...)
	}
	wrapBytes(b, 72)
	g.scratch = b
	return g.polish(b, st)
}

// foreignParagraph returns 2 to 4 sentences of language l; CJK sentences
// go on lines of their own, as Japanese and Chinese mail usually has them.
func (g *Generator) foreignParagraph(l *lang) string {
	n := g.rng.between(2, 4)
	sep := " "
	if l.cjk {
		sep = "\n"
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.rng.pick(l.sentences)
	}
	return strings.Join(parts, sep)
}

// wordSpace is the number of distinct pseudo-words: six syllables of 70.
const wordSpace = 70 * 70 * 70 * 70 * 70 * 70

// uniqueWord returns the made-up word of message seq: seq goes through a
// bijection of [0, wordSpace) (multiplication by a unit, plus the salt), so
// the words look unrelated yet never repeat for seq below wordSpace.
func uniqueWord(seq int, salt uint64) string {
	hi, lo := bits.Mul64(uint64(seq)%wordSpace, 11400714819) // coprime to 70
	v := (bits.Rem64(hi, lo, wordSpace) + salt%wordSpace) % wordSpace
	return pseudoWord(v)
}

// pseudoWord spells v as six consonant-vowel syllables: a pronounceable
// token that no vocabulary word equals, distinct for each v below wordSpace.
func pseudoWord(v uint64) string {
	b := make([]byte, 0, 12)
	for range 6 {
		d := v % 70
		v /= 70
		b = append(b, consonants[d/5], vowels[d%5])
	}
	return string(b)
}

// wrap folds s at spaces so that lines stay within width bytes where a word
// allows (greedy, like most mailers); existing newlines are kept.
func wrap(s string, width int) string {
	if len(s) <= width {
		return s
	}
	b := []byte(s)
	wrapBytes(b, width)
	return string(b)
}

// wrapBytes is wrap in place: it turns spaces into newlines.
func wrapBytes(b []byte, width int) {
	lineStart, lastSpace := 0, -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != ' ' && b[i] != '\n' {
			continue
		}
		// b[lastSpace+1:i] is a word; break before it if it overflows.
		if i-lineStart > width && lastSpace >= lineStart {
			b[lastSpace] = '\n'
			lineStart = lastSpace + 1
		}
		if i < len(b) && b[i] == '\n' {
			lineStart, lastSpace = i+1, -1
		} else {
			lastSpace = i
		}
	}
}
