package imapsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Bodies: UID FETCH (UID BODY.PEEK[]) for partial messages, newest first,
// swapped in with store.ReplaceBodies. The connection goroutine reads the
// literals; bodies up to bodyMemMax are handed to a few store writers
// through a small queue (so fsyncs overlap the network), bigger ones are
// streamed straight to the store. A writer takes the bodies waiting in
// the queue together, up to bodyMemMax of them (one more may wait for
// its next batch), and stores them in one write unit: one at a time,
// each was a transaction and a full-text segment. At most (bodyQueue +
// 2*bodyWriters + 1) bodies of bodyMemMax are in memory, whatever the
// mailbox holds.
const (
	bodyChunk   = 100
	bodyMemMax  = 1 << 20
	bodyQueue   = 4
	bodyWriters = 2
)

var fullSection = &imap.FetchItemBodySection{Peek: true}

// bodyJob is one body to store.
type bodyJob struct {
	uid  uint32 // local
	data []byte
}

// fetchBodies downloads the bodies the policy wants of partial messages.
func (e *engine) fetchBodies(ctx context.Context, rb remoteBox) error {
	if e.opts.Bodies.OnOpen {
		return nil
	}
	mb := rb.Local
	todo, err := e.st.PartialUIDs(ctx, mb)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	if days := e.opts.Bodies.Days; days > 0 {
		if todo, err = e.recent(ctx, mb, todo, time.Now().AddDate(0, 0, -days)); err != nil || len(todo) == 0 {
			return err
		}
	}
	slices.SortFunc(todo, func(a, b store.RemotePair) int { return int(int64(b.RemoteUID) - int64(a.RemoteUID)) })
	sel, err := e.c.selectBox(rb.Name)
	if err != nil {
		return err
	}
	state, err := e.loadState(ctx, mb)
	if err != nil {
		return err
	}
	if state.uv != sel.UIDValidity {
		return nil // the next sync resets the mailbox first
	}
	return e.fetchBodyList(ctx, mb, todo)
}

// recent keeps the messages of todo that arrived after since.
func (e *engine) recent(ctx context.Context, mb string, todo []store.RemotePair, since time.Time) ([]store.RemotePair, error) {
	uids := make([]uint32, len(todo))
	for i, p := range todo {
		uids[i] = p.UID
	}
	msgs, err := e.st.Fetch(ctx, mb, uids)
	if err != nil {
		return nil, err
	}
	keep := map[uint32]bool{}
	for _, m := range msgs {
		if !m.InternalDate.Before(since) {
			keep[m.UID] = true
		}
	}
	return slices.DeleteFunc(todo, func(p store.RemotePair) bool { return !keep[p.UID] }), nil
}

// fetchBodyList fetches and stores the bodies of pairs from the selected
// mailbox mb.
func (e *engine) fetchBodyList(ctx context.Context, mb string, pairs []store.RemotePair) error {
	local := make(map[uint32]uint32, len(pairs))
	for _, p := range pairs {
		local[p.RemoteUID] = p.UID
	}
	var (
		mu     sync.Mutex
		werr   error
		done   int
		nbytes int64
		wg     sync.WaitGroup
	)
	stored := func(n int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			done++
			nbytes += n
			e.count(func(r *Result) { r.Bodies++ })
			if done%50 == 0 || done == len(pairs) {
				e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseBodies, Done: done, Total: len(pairs), Bytes: nbytes})
			}
		case errors.Is(err, store.ErrNotFound): // expunged meanwhile
		case werr == nil:
			werr = fmt.Errorf("imap sync %s: store body: %w", mb, err)
		}
	}
	jobs := make(chan bodyJob, bodyQueue)
	for range bodyWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var carry *bodyJob // taken from jobs, for the next batch
			for {
				var j bodyJob
				if carry != nil {
					j, carry = *carry, nil
				} else {
					var ok bool
					if j, ok = <-jobs; !ok {
						return
					}
				}
				// With it, the bodies already waiting, up to bodyMemMax
				// in all: one write unit (store.ReplaceBodies).
				batch, size := []bodyJob{j}, len(j.data)
			more:
				for len(batch) <= bodyQueue {
					select {
					case j, ok := <-jobs:
						if !ok {
							break more
						}
						if size+len(j.data) > bodyMemMax {
							carry = &j
							break more
						}
						batch, size = append(batch, j), size+len(j.data)
					default:
						break more
					}
				}
				bodies := make([]store.Body, len(batch))
				for i, j := range batch {
					bodies[i] = store.Body{UID: j.uid, R: bytes.NewReader(j.data)}
				}
				errs, err := e.st.ReplaceBodies(ctx, mb, bodies)
				for i, j := range batch {
					berr := err // the whole batch failed
					if berr == nil {
						berr = errs[i]
					}
					stored(int64(len(j.data)), berr)
				}
			}
		}()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return werr != nil
	}
	var ferr error
	for start := 0; start < len(pairs) && ferr == nil && !failed(); start += bodyChunk {
		var set imap.UIDSet
		for _, p := range pairs[start:min(start+bodyChunk, len(pairs))] {
			set.AddNum(imap.UID(p.RemoteUID))
		}
		cmd := e.c.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{fullSection}})
		for msg := cmd.Next(); msg != nil && ferr == nil; msg = cmd.Next() {
			ferr = e.readBody(msg, local, jobs, func(uid uint32, r io.Reader, size int64) {
				stored(size, e.st.ReplaceBody(ctx, mb, uid, r))
			})
		}
		if err := cmd.Close(); err != nil && ferr == nil {
			ferr = err
		}
	}
	close(jobs)
	wg.Wait()
	if ferr != nil {
		return e.c.wrap("fetch bodies", mb, ferr)
	}
	return werr
}

// readBody reads one FETCH response: a small body goes to jobs, a big one
// to stream. A literal cut short is an error, never a short body, and
// closes the client first (see readMsg).
func (e *engine) readBody(msg *imapclient.FetchMessageData, local map[uint32]uint32, jobs chan<- bodyJob, stream func(uint32, io.Reader, int64)) error {
	var ruid uint32
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			ruid = uint32(it.UID)
		case imapclient.FetchItemDataBodySection:
			uid, ok := local[ruid]
			if !ok || it.Literal == nil {
				continue // NIL: not a message (expunged meanwhile)
			}
			if it.Literal.Size() == 0 {
				// Empty on the server: the placeholder completes it.
				jobs <- bodyJob{uid: uid, data: []byte(emptyPlaceholder)}
				continue
			}
			size := it.Literal.Size()
			if size > bodyMemMax {
				stream(uid, &exactReader{r: it.Literal, left: size, fail: func() { e.c.c.Close() }}, size)
				continue
			}
			buf := make([]byte, size)
			if _, err := io.ReadFull(it.Literal, buf); err != nil {
				e.c.c.Close()
				return err
			}
			jobs <- bodyJob{uid: uid, data: buf}
		}
	}
	return nil
}

// exactReader fails with io.ErrUnexpectedEOF when r ends before left
// bytes were read (a literal cut by a dropped connection).
type exactReader struct {
	r    io.Reader
	left int64
	fail func() // called once on an early end or a read error
}

// Read reads from r, turning an early end into io.ErrUnexpectedEOF.
func (x *exactReader) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	x.left -= int64(n)
	if err == io.EOF && x.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF && x.fail != nil {
		x.fail()
		x.fail = nil
	}
	return n, err
}

// FetchBody downloads the body of one partial message (local UID uid of
// mailbox) on its own connection: the "on open" half of BodyPolicy. A
// message already complete is left alone.
func FetchBody(ctx context.Context, st Store, opts Options, mailbox string, uid uint32) error {
	mb, err := store.CanonicalName(mailbox)
	if err != nil {
		return fmt.Errorf("imap fetch body: %w", err)
	}
	ri, err := st.RemoteIndex(ctx, mb)
	if err != nil {
		return fmt.Errorf("imap fetch body %s: %w", mb, err)
	}
	i := slices.IndexFunc(ri, func(r store.RemoteRef) bool { return !r.Elsewhere && r.UID == uid })
	if i < 0 {
		return fmt.Errorf("imap fetch body %s/%d: %w", mb, uid, store.ErrNotFound)
	}
	if !ri[i].Partial {
		return nil
	}
	if ri[i].RemoteUID == 0 {
		return fmt.Errorf("imap fetch body %s/%d: not on the server: %w", mb, uid, store.ErrNotFound)
	}
	c, err := dial(ctx, opts.Server)
	if err != nil {
		return err
	}
	defer c.close()
	e := &engine{st: st, opts: opts, c: c}
	list, err := c.list()
	if err != nil {
		return err
	}
	j := slices.IndexFunc(list, func(rb remoteBox) bool { return rb.Local == mb })
	if j < 0 {
		return &lbsync.Error{Op: "imap fetch body " + mb, Err: store.ErrNotFound}
	}
	sel, err := c.selectBox(list[j].Name)
	if err != nil {
		return err
	}
	state, err := e.loadState(ctx, mb)
	if err != nil {
		return err
	}
	if state.uv != sel.UIDValidity {
		return &lbsync.Error{Op: "imap fetch body " + mb, Err: errors.New("UIDVALIDITY changed: sync the mailbox first")}
	}
	return e.fetchBodyList(ctx, mb, []store.RemotePair{{UID: uid, RemoteUID: ri[i].RemoteUID}})
}
