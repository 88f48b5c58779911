// Package mailgen generates realistic email, deterministically, for tests
// and benchmarks: the same Options give byte-identical messages on every run
// and every machine.
//
// It owns the synthetic corpus (vocabulary, senders, threads, MIME shapes)
// and the Maildir and mbox writers that lay a corpus out on disk, and
// BuildTree, which makes MIME trees of any shape for fuzz targets. It imports
// no letterbox package, so the tests of any package may use it.
//
// A corpus, roughly (the package tests hold the bounds):
//   - 60% text/plain, 30% multipart/alternative (plain + HTML with links),
//     5% multipart/mixed with 1-3 attachments of 20-500 KB in base64 (PDF,
//     PNG, JPEG, ZIP, DOCX, XLSX; a third with non-ASCII file names, RFC 2231
//     encoded), the rest HTML-only (newsletters and notifications);
//   - without attachments, sizes mostly 2-30 KB (median about 8 KB);
//   - 20% of threads in German, French, Russian, Japanese or Chinese, with
//     RFC 2047 subjects and bodies in UTF-8, ISO-8859-1, windows-1252,
//     KOI8-R, ISO-2022-JP or Shift_JIS, sent 7bit, 8bit, quoted-printable or
//     base64; about 20% of display names are non-ASCII;
//   - English text from a template grammar over a few hundred words drawn
//     with a Zipf law, so some words are everywhere and others rare;
//   - 40% replies with In-Reply-To and References chains up to depth 10 and
//     "Re: " subjects; 190 people and 10 automated senders over two dozen
//     reserved domains (example.com/.org/.net, *.example, *.test); 15% of
//     threads on mailing lists (List-Id); Date headers in many time zones.
//
// Raw messages use CRLF line ends, as on the wire; WriteMbox converts them.
//
// Invariants: all randomness comes from one *rand.Rand per Generator seeded
// with Options.Seed and drawn in program order, using integer arithmetic
// only; nothing iterates a map or reads the clock. A Generator keeps only a
// bounded set of open threads (128, of at most 40 messages each), so its
// memory does not grow with Count.
package mailgen

import (
	"bytes"
	"math/rand"
	"time"
)

// Options configures a Generator. The zero value of each field but Seed
// and Count selects its default.
type Options struct {
	// Seed selects the corpus; equal seeds give identical output.
	Seed int64
	// Count is the number of messages; zero or less gives none.
	Count int
	// Start is where the dates begin; default 2025-01-01 UTC. Message i
	// is dated in [Start + i*Span/Count, Start + (i+1)*Span/Count), to the
	// second, so dates never decrease.
	Start time.Time
	// Span is the time the message dates are spread over; default 365 days.
	Span time.Duration
	// AttachmentRate is the fraction of messages with attachments; default
	// 0.05, negative for none.
	AttachmentRate float64
}

// Message is one generated message.
type Message struct {
	// Raw is the message as on the wire: RFC 5322 with CRLF line ends.
	Raw []byte
	// MessageID is the Message-ID without angle brackets; unique within
	// a corpus.
	MessageID string
	// Subject is the decoded Subject.
	Subject string
	// From is the sender's address (no display name).
	From string
	// Date is the Date header, to the second, in the sender's time zone.
	Date time.Time
	// ThreadRoot is the MessageID of the first message of the thread;
	// the message's own MessageID if it starts a thread.
	ThreadRoot string
	// HasAttachment reports a multipart/mixed message with attachments.
	HasAttachment bool
	// Words are three distinctive ASCII words that appear in the decoded
	// text of the body: Words[0] is a made-up word that no other message
	// of the corpus contains, the others are rare vocabulary words.
	Words []string
}

// Generator produces the messages of one corpus in order. It is not safe
// for concurrent use.
type Generator struct {
	opts    Options
	rng     rng
	voc     *vocab
	seq     int    // index of the next message
	salt    uint64 // mixes the seed into the unique words
	step    int64  // nanoseconds between consecutive messages
	people  []*person
	byLang  [][]int // indexes of people per language
	robots  []*person
	owner   *person
	open    []*thread    // open threads, least recently active first
	scratch []byte       // sentence and paragraph text being built
	plain   []byte       // the text/plain body being built
	html    []byte       // the text/html body being built
	buf     bytes.Buffer // the message being built
	att     []byte       // attachment content being built
}

// Shape of the corpus; the package doc states the resulting proportions.
const (
	maxOpen    = 128 // open threads kept
	maxNodes   = 40  // messages per thread before it is closed
	maxDepth   = 10  // reply depth
	nPeople    = 190 // human senders; robots come on top
	replyPct   = 40
	listPct    = 15
	robotPct   = 5
	foreignPct = 20
)

// New returns a Generator for opts, with defaults filled in.
func New(opts Options) *Generator {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Span <= 0 {
		opts.Span = 365 * 24 * time.Hour
	}
	switch {
	case opts.AttachmentRate == 0:
		opts.AttachmentRate = 0.05
	case opts.AttachmentRate < 0:
		opts.AttachmentRate = 0
	}
	g := &Generator{
		opts: opts,
		rng:  rng{r: rand.New(rand.NewSource(opts.Seed))},
	}
	if opts.Count > 0 {
		g.step = int64(opts.Span) / int64(opts.Count)
	}
	g.salt = uint64(g.rng.r.Int63())
	g.buildPeople()
	g.voc = newVocab(len(g.people))
	return g
}

// Next returns the next message, or false after Count messages. The
// returned Raw is the caller's.
func (g *Generator) Next() (Message, bool) {
	if g.seq >= g.opts.Count {
		return Message{}, false
	}
	d := g.plan()
	m := g.compose(d)
	g.seq++
	return m, true
}

// date returns the date of the next message: Start plus an even share of
// Span plus jitter within that share, so dates never decrease.
func (g *Generator) date() time.Time {
	off := g.step * int64(g.seq)
	if g.step > 1 {
		off += g.rng.r.Int63n(g.step)
	}
	return g.opts.Start.Add(time.Duration(off)).Truncate(time.Second)
}
