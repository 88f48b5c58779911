package imapsync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// New messages, newest first, headers first: when there are more than
// firstHeaderChunk, the newest firstHeaderChunk are fetched as headers
// only (UID FETCH (UID FLAGS INTERNALDATE BODY.PEEK[HEADER])), so the top
// of the list is usable at once. The rest, or all of them when there are
// fewer (an incremental sync), are planned from a cheap UID FETCH (UID
// RFC822.SIZE INTERNALDATE):
// messages whose body the policy wants now and that are small come whole
// (BODY.PEEK[]) in one pass; big ones, and those the policy leaves for
// later, come as headers only and get their bodies in the background
// pass. Every chunk is staged in the store (written and parsed) by one of
// two writer goroutines while the connection goroutine fetches the next,
// and staged chunks are committed together (storeChunks); at most three
// chunks (of at most fullChunkBytes) are in memory.
//
// Why not headers only for everything: in the store, writing a header
// file costs what writing the whole message costs (an fsync each), and
// swapping the body in later (store.ReplaceBody) costs three fsyncs and a
// transaction per message. A second pass over every message would make
// the initial sync several times slower than mbsync's single pass while
// completing the list barely sooner.

// Chunk bounds: a small first chunk shows the newest list quickly; whole
// messages are chunked by count and bytes, so memory stays bounded. At
// most three chunks are in memory (one being fetched, two being stored;
// the hand-off is unbuffered), so fullChunkBytes sets the sync's live
// heap: with four chunks of 8 MiB a full sync of 19,000 messages (27 KB
// on average) peaked at 145 MB RSS; with three of 2 MiB (about 75 such
// messages), the store's smaller page caches (accounts.Open) and the sync
// command's memory limit, near 60 MB (bench/all.sh, docs/BENCHMARKS.md).
// The commit size is set apart (commitMsgs, commitText).
const (
	// firstHeaderChunk is a screenful or two: each of these messages is
	// written twice (its header now, its body swapped in by the body
	// pass), which at 200 per folder was 800 extra writes, fsyncs and
	// transactions in a sync of four folders.
	firstHeaderChunk = 50
	headerChunk      = 1000
	fullChunk        = 500
	fullChunkBytes   = 2 << 20
	// storeWriters is how many chunks are written to the store at once.
	storeWriters = 2
)

// batch is one FETCH of new messages: headers only, or whole.
type batch struct {
	uids []uint32
	full bool
}

var headerSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}

// header is one fetched message header.
type header struct {
	uid   uint32
	flags []string
	date  time.Time
	size  int64 // RFC822.SIZE
	data  *literal
	// partial is set when data is the header only.
	partial bool
}

// chunk is a batch of headers handed to the store writer.
type chunk struct {
	items   []store.AppendItem
	adopted []store.RemotePair
	flags   map[uint32][]string // server flags of adopted messages
	sizes   map[uint32]int64    // server sizes of adopted messages
	// lits are released once the chunk is stored.
	lits []*literal
	// partial: the chunk is headers only (committed at once).
	partial bool
}

// fetchNew downloads the server messages uids (ascending) of rb, whole or
// their headers, or adopts local copies of them (see adopter). It returns
// once every message is fetched and handed to the store writers; wait
// waits for the writers and returns the adopted messages whose local copy
// differs in size from the server's (their bodies are to be fetched
// again) and the writers' error. When the fetch itself fails, fetchNew
// waits for the writers and returns the error. meta holds the sizes and
// dates already fetched (of some of uids, or nil).
func (e *engine) fetchNew(ctx context.Context, rb remoteBox, uv uint32, uids []uint32, ad *adopter, meta map[uint32]newMeta) (wait func() ([]store.RemotePair, error), err error) {
	mb := rb.Local
	// Newest first: the top of the list fills in first.
	for i, j := 0, len(uids)-1; i < j; i, j = i+1, j-1 {
		uids[i], uids[j] = uids[j], uids[i]
	}
	total := len(uids)
	chunks := make(chan chunk)
	werr := make(chan error, 1)
	failed := make(chan struct{})
	var refetch []store.RemotePair // written by the writers, read after them
	go func() { werr <- e.storeChunks(ctx, mb, uv, total, chunks, failed, &refetch) }()
	var ferr error
	var plan []batch
	var rest []uint32 // planned once the first chunk is on its way
	if len(uids) > firstHeaderChunk {
		plan = append(plan, batch{uids: uids[:firstHeaderChunk]})
		rest = uids[firstHeaderChunk:]
	} else if len(uids) > 0 {
		// A few new messages (the everyday incremental sync) come whole
		// in one pass: their headers first would cost a second pass and a
		// ReplaceBody each for a list that is complete in a moment anyway.
		var err error
		if plan, err = e.planNew(mb, uids, meta); err != nil {
			ferr = err
		}
	}
fetch:
	for i := 0; i < len(plan); i++ {
		select {
		case <-failed:
			break fetch // the writer failed: its error is returned
		default:
		}
		hs, err := e.fetchMessages(mb, plan[i].uids, plan[i].full)
		if err != nil {
			ferr = err
			break
		}
		// The local copies these messages may have: looked up by their
		// Message-IDs.
		mids := make([]string, len(hs))
		for j, h := range hs {
			mids[j] = normMID(messageID(h.data.Prefix(headerPeek)))
		}
		if err := ad.load(ctx, mids); err != nil {
			releaseAll(hs)
			ferr = err
			break
		}
		ch := chunk{flags: map[uint32][]string{}, sizes: map[uint32]int64{}, partial: !plan[i].full}
		for j, h := range hs {
			ch.lits = append(ch.lits, h.data)
			switch act, luid := ad.match(h.uid, mids[j]); act {
			case adopt:
				ch.adopted = append(ch.adopted, store.RemotePair{UID: luid, RemoteUID: h.uid})
				ch.flags[h.uid] = h.flags
				ch.sizes[h.uid] = h.size
			case download:
				ch.items = append(ch.items, store.AppendItem{
					Open:  h.data.Open,
					Flags: h.flags, InternalDate: h.date,
					Remote: store.Remote{UID: h.uid, Partial: h.partial},
				})
			}
		}
		chunks <- ch
		if i == 0 && len(rest) > 0 {
			// The top of the list is on its way to the store: plan the rest.
			more, err := e.planNew(mb, rest, meta)
			if err != nil {
				ferr = err
				break
			}
			plan = append(plan, more...)
		}
	}
	close(chunks)
	if ferr != nil {
		<-werr
		return nil, ferr
	}
	var once sync.Once
	var serr error
	return func() ([]store.RemotePair, error) {
		once.Do(func() { serr = <-werr })
		return refetch, serr
	}, nil
}

// storeChunks writes chunks to the store with storeWriters goroutines, so
// that one chunk's files are written and parsed while another's are. A
// chunk of whole messages is staged (store.Stage: its files written and
// parsed, its fetched bytes released at once) and committed with the
// chunks staged before it once they hold commitMsgs messages or
// commitText of full text: one transaction, one full-text segment and
// one syncfs for many chunks, while memory holds three chunks' bytes at
// most. A chunk of headers only (the newest of a big sync, shown first)
// is committed at once. After a failed write storeChunks closes failed,
// so the fetcher stops, and drains the channel so the fetcher never
// blocks.
func (e *engine) storeChunks(ctx context.Context, mb string, uv uint32, total int, chunks <-chan chunk, failed chan<- struct{}, refetch *[]store.RemotePair) error {
	var (
		mu      sync.Mutex // guards err, done, pending, refetch; serialises adoptions
		err     error
		done    int
		pending *store.Staged // staged, not committed
		wg      sync.WaitGroup
	)
	maxMsgs := commitMsgs
	if e.opts.commitMsgs > 0 {
		maxMsgs = e.opts.commitMsgs
	}
	fail := func(serr error) { // with mu held
		if serr != nil && err == nil {
			err = serr
			close(failed)
		}
	}
	// commit commits st (with mu not held) and reports it.
	commit := func(st *store.Staged) {
		n, serr := e.commitStaged(ctx, mb, st)
		mu.Lock()
		defer mu.Unlock()
		fail(serr)
		if serr == nil {
			done += n
			e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseHeaders, Done: done, Total: total})
		}
	}
	for range storeWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range chunks {
				mu.Lock()
				stop := err != nil
				mu.Unlock()
				if stop {
					releaseLits(ch.lits)
					continue
				}
				var st *store.Staged
				var serr error
				if len(ch.items) > 0 {
					st, serr = e.st.Stage(ctx, mb, ch.items)
					if serr != nil {
						serr = fmt.Errorf("imap sync %s: store headers: %w", mb, serr)
					}
				}
				releaseLits(ch.lits)
				if serr == nil && len(ch.adopted) > 0 {
					mu.Lock()
					serr = e.adoptPairs(ctx, mb, uv, ch, refetch)
					if serr == nil {
						done += len(ch.adopted)
					}
					mu.Unlock()
				}
				if serr != nil {
					if st != nil {
						st.Discard()
					}
					mu.Lock()
					fail(serr)
					mu.Unlock()
					continue
				}
				if st == nil {
					continue
				}
				if ch.partial {
					commit(st) // the top of the list: at once
					continue
				}
				mu.Lock()
				if pending == nil {
					pending = st
				} else if merr := pending.Merge(st); merr != nil {
					st.Discard()
					fail(merr)
				}
				var full *store.Staged
				if pending != nil && (pending.Len() >= maxMsgs || pending.TextBytes() >= commitText) {
					full, pending = pending, nil
				}
				mu.Unlock()
				if full != nil {
					commit(full)
				}
			}
		}()
	}
	wg.Wait()
	if pending != nil {
		if err != nil {
			pending.Discard()
		} else {
			commit(pending)
		}
	}
	return err
}

// Staged messages are committed once they are commitMsgs messages or
// hold commitText octets of full text (which staged messages keep in
// memory until their rows are written; one batch is staged while the one
// before commits). Measured on a full sync of 19,000 messages
// (docs/BENCHMARKS.md): 500 and 1 MiB peaked 2 MB lower than 1,000 and
// 2 MiB, for the same CPU.
const (
	commitMsgs = 500
	commitText = 1 << 20
)

// commitStaged commits st and reports its failed items; it returns the
// number stored.
func (e *engine) commitStaged(ctx context.Context, mb string, st *store.Staged) (int, error) {
	res, err := st.Commit(ctx)
	if err != nil {
		return 0, fmt.Errorf("imap sync %s: store headers: %w", mb, err)
	}
	n := 0
	for _, r := range res {
		if r.Err != nil {
			e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseHeaders, Err: r.Err})
			continue
		}
		n++
	}
	e.count(func(r *Result) { r.New += n })
	return n, nil
}

// releaseLits releases fetched literals once their bytes are staged.
func releaseLits(ls []*literal) {
	for _, l := range ls {
		l.Release()
	}
}

// adoptPairs maps adopted local messages to their server UIDs and brings
// their flags to the server's (a pending local change still wins).
func (e *engine) adoptPairs(ctx context.Context, mb string, uv uint32, ch chunk, refetch *[]store.RemotePair) error {
	if err := e.st.SetRemoteUIDs(ctx, mb, ch.adopted); err != nil {
		return err
	}
	e.count(func(r *Result) { r.Adopted += len(ch.adopted) })
	uids := make([]uint32, len(ch.adopted))
	for i, p := range ch.adopted {
		uids[i] = p.UID
	}
	msgs, err := e.st.Fetch(ctx, mb, uids)
	if err != nil {
		return err
	}
	byUID := map[uint32]store.Message{}
	for _, m := range msgs {
		byUID[m.UID] = m
	}
	local := map[uint32]store.RemoteRef{}
	for _, p := range ch.adopted {
		if m, ok := byUID[p.UID]; ok {
			local[p.RemoteUID] = store.RemoteRef{ID: m.ID, UID: m.UID, RemoteUID: p.RemoteUID, Flags: m.Flags}
			// A local copy of another size (only its header, say, when its
			// partial mark was lost with its old mapping) takes the
			// server's message.
			if s := ch.sizes[p.RemoteUID]; s > 0 && s != m.Size {
				*refetch = append(*refetch, p)
			}
		}
	}
	n, err := e.applyFlags(ctx, mb, uv, ch.flags, local)
	e.count(func(r *Result) { r.Flags += n })
	return err
}

// planNew splits uids (newest first) into batches from their sizes and
// dates: whole messages when the policy wants the body now and it is at
// most bodyMemMax, headers only otherwise. Those not in have are fetched.
func (e *engine) planNew(mb string, uids []uint32, have map[uint32]newMeta) ([]batch, error) {
	info := make(map[uint32]newMeta, len(uids))
	var missing []uint32
	for _, u := range uids {
		if m, ok := have[u]; ok {
			info[u] = m
		} else {
			missing = append(missing, u)
		}
	}
	// Pieces of 5000 keep the command line short even for sparse UIDs.
	for start := 0; start < len(missing); start += 5000 {
		var set imap.UIDSet
		for _, u := range missing[start:min(start+5000, len(missing))] {
			set.AddNum(imap.UID(u))
		}
		msgs, err := e.c.c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}).Collect()
		if err != nil {
			return nil, e.c.wrap("fetch sizes", mb, err)
		}
		for _, m := range msgs {
			info[uint32(m.UID)] = newMeta{m.RFC822Size, m.InternalDate}
		}
	}
	var since time.Time
	if d := e.opts.Bodies.Days; d > 0 {
		since = time.Now().AddDate(0, 0, -d)
	}
	var plan []batch
	var full, heads batch
	var fullBytes int64
	full.full = true
	for _, u := range uids {
		m, ok := info[u]
		if !ok {
			continue // expunged meanwhile
		}
		if !e.opts.Bodies.OnOpen && m.size <= bodyMemMax && !m.date.Before(since) {
			full.uids = append(full.uids, u)
			fullBytes += m.size
			if len(full.uids) >= fullChunk || fullBytes >= fullChunkBytes {
				plan, full, fullBytes = append(plan, full), batch{full: true}, 0
			}
			continue
		}
		heads.uids = append(heads.uids, u)
		if len(heads.uids) >= headerChunk {
			plan, heads = append(plan, heads), batch{}
		}
	}
	for _, b := range []batch{full, heads} {
		if len(b.uids) > 0 {
			plan = append(plan, b)
		}
	}
	return plan, nil
}

// fetchMessages fetches uids of the selected mailbox: headers only, or
// whole messages. At most batchMem octets of them are held in memory
// (see literal.go). A message of zero octets on the server comes as the
// placeholder, complete.
func (e *engine) fetchMessages(mb string, uids []uint32, whole bool) ([]header, error) {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	section := headerSection
	if whole {
		section = fullSection
	}
	cmd := e.c.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{section}})
	budget := int64(batchMem)
	var out []header
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		h, err := e.c.readHeader(msg, &budget)
		if err != nil {
			cmd.Close()
			releaseAll(out)
			return nil, e.c.wrap("fetch", mb, err)
		}
		if h.uid == 0 || h.data == nil {
			h.data.Release() // NIL: not a message (expunged meanwhile)
			continue
		}
		h.partial = !whole
		if h.data.Len() == 0 {
			h.data = placeholder()
			h.partial = h.partial && h.size > 0
		}
		out = append(out, h)
	}
	if err := cmd.Close(); err != nil {
		releaseAll(out)
		return nil, e.c.wrap("fetch", mb, err)
	}
	return out, nil
}

// batchMem bounds the octets of one fetch batch held in memory.
const batchMem = 2 * fullChunkBytes

// headerPeek is how much of a message is searched for its Message-ID.
const headerPeek = 256 << 10

// messageID returns the Message-ID of a raw header block, or "".
func messageID(raw []byte) string {
	m, err := mail.ReadMessage(io.MultiReader(bytes.NewReader(raw), bytes.NewReader([]byte("\r\n"))))
	if err != nil {
		return ""
	}
	return normMID(m.Header.Get("Message-Id"))
}
