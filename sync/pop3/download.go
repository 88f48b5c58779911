package pop3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"

	"github.com/letterbox-mail/letterbox/store"
)

// parallel bounds the messages being written to the store at once. The
// wire is read one message after the other; what overlaps is the fsync
// and commit of a message with reading the next, and the store's group
// commit batches the commits of those waiting together.
const parallel = 8

// Options configure Sync.
type Options struct {
	// Account names the account in events.
	Account string
	// Client says how to reach and log in to the server.
	Client Config
	// Policy is what happens on the server after download; Keep when zero.
	Policy Policy
	// DeleteLocal deletes on the server a message whose local copy was
	// deleted (removed from the store, not moved), whatever the Policy.
	DeleteLocal bool
	// Report receives progress events; nil drops them. It is called from
	// one goroutine at a time.
	Report lbsync.Reporter
	// Now is the clock for KeepDays; time.Now when nil.
	Now func() time.Time
	// Resume says how often and after how long Sync reconnects when the
	// connection is lost in the middle of a run (3 times, from 1s, when
	// zero).
	Resume lbsync.Resume
}

// Result counts what one Sync did.
type Result struct {
	// OnServer is the number of messages on the server at login.
	OnServer int
	// Downloaded messages were stored in INBOX; Bytes is their size.
	Downloaded int
	Bytes      int64
	// Failed messages were refused by the server (-ERR to RETR); they
	// are tried again by the next Sync.
	Failed int
	// Skipped messages were empty: their UIDLs are remembered, nothing is
	// stored.
	Skipped int
	// Deleted messages were deleted on the server (QUIT confirmed it).
	Deleted int
	// Vanished messages were remembered but are no longer on the server
	// (deleted by another client); they are marked gone.
	Vanished int
}

// syncer is the state of one Sync.
type syncer struct {
	st   Store
	opts Options

	mu       sync.Mutex // guards res, storeErr and calls of Report
	res      Result
	total    int
	storeErr error
}

// Sync downloads into the store's INBOX every message of the POP3 server
// whose UIDL the store does not remember, then deletes on the server what
// the policy says, in one session:
//
//	connect, log in -> UIDL -> RETR the new ones, each appended to the store
//	with its UIDL in the same transaction -> DELE what the policy chooses
//	among the messages stored -> QUIT -> mark the deleted ones gone
//
// Safety at any interruption: a message is remembered only once the store
// has it durably, so an interrupted RETR is fetched again next time and a
// stored one never; DELE is sent only for messages the store holds, and
// the server deletes nothing before QUIT (RFC 1939 section 6), so a drop
// before it changes nothing there; the choice of what to delete is made
// again from the store at every Sync, so deletions a drop prevented
// happen the next time. A session lost for a Temporary reason (a cut,
// a timeout) is resumed in the same Sync, as Options.Resume says: the
// next session skips what the store holds, so it goes on where the lost
// one stopped. Syncs of one store, in this process or others, run one
// at a time (store.LockSync): a second waits for the first.
//
// Errors of the connection and the server have the kinds of package sync
// (Temporary, Auth, ... with ErrNoUIDL and the like); errors of the store
// are returned wrapped.
func Sync(ctx context.Context, st Store, opts Options) (Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &syncer{st: st, opts: opts}
	var err error
	for n := 0; ; n++ {
		var connected bool
		connected, err = s.run(ctx)
		// Resume a session lost for a Temporary reason (a cut, a
		// timeout), and a reconnection that failed so (a server still
		// holding the mailbox of the lost session answers [IN-USE]); not
		// a first connection that failed, nor anything that needs the
		// user.
		if err == nil || !lbsync.IsTemporary(err) || (n == 0 && !connected) || ctx.Err() != nil || n >= opts.Resume.Tries() {
			break
		}
		d := opts.Resume.DelayOf(n)
		s.event(lbsync.Event{Phase: lbsync.PhaseConnect, Err: err,
			Note: fmt.Sprintf("connection lost; resuming in %s (%d of %d)", lbsync.Seconds(d), n+1, opts.Resume.Tries())})
		if !lbsync.Sleep(ctx, d) {
			break
		}
	}
	if err != nil {
		// The account is named by the caller (accounts) and by the
		// event's Account, not here again.
		err = fmt.Errorf("pop3 sync: %w", err)
		s.event(lbsync.Event{Phase: lbsync.PhaseDone, Err: err})
	} else {
		s.event(lbsync.Event{Phase: lbsync.PhaseDone, Done: s.res.Downloaded, Total: s.total, Bytes: s.res.Bytes, Note: s.res.describe()})
	}
	return s.res, err
}

// event reports e, one call at a time.
func (s *syncer) event(e lbsync.Event) {
	e.Account, e.Mailbox = s.opts.Account, store.Inbox
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Report.Report(e)
}

// run is one session: it reports whether the connection was made. What
// the store already has is skipped, so a run after a lost one goes on
// where that one stopped.
func (s *syncer) run(ctx context.Context) (connected bool, err error) {
	if err := s.opts.Policy.check(); err != nil {
		return false, err
	}
	// One sync of a store at a time, across processes (a cron job beside
	// the interface): the second waits for the first.
	unlock, err := s.st.LockSync(ctx, func() {
		s.event(lbsync.Event{Phase: lbsync.PhaseConnect, Note: "waiting for another sync of this account"})
	})
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	defer unlock()
	s.res.Failed = 0 // refused messages are tried again in this run
	s.event(lbsync.Event{Phase: lbsync.PhaseConnect, Note: s.opts.Client.Addr})
	c, err := Dial(ctx, s.opts.Client)
	if err != nil {
		return false, err
	}
	defer c.Close()
	return true, s.session(ctx, c)
}

// session downloads what is new and applies the policy on c.
func (s *syncer) session(ctx context.Context, c *Client) error {
	uids, err := c.UIDL(ctx)
	if err != nil {
		return err
	}
	onServer := make(map[string]int, len(uids))
	keys := make([]string, 0, len(uids))
	for _, u := range uids {
		k := uidlKey(u.ID)
		if _, dup := onServer[k]; !dup { // a broken server's duplicate: once
			onServer[k] = u.Num
			keys = append(keys, k)
		}
	}
	s.res.OnServer = len(onServer)
	known, err := s.st.HasRemoteIDs(ctx, keys)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var fetch []int
	keyOf := make(map[int]string)
	for _, k := range keys {
		if !known[k] {
			fetch = append(fetch, onServer[k])
			keyOf[onServer[k]] = k
		}
	}
	if err := s.download(ctx, c, fetch, keyOf); err != nil {
		return err
	}
	return s.deleteOnServer(ctx, c, onServer)
}

// deleteOnServer marks vanished messages gone, sends DELE for what the
// policy chooses, and QUITs; only a confirmed QUIT marks them gone.
func (s *syncer) deleteOnServer(ctx context.Context, c *Client, onServer map[string]int) error {
	ids, err := s.st.RemoteIDs(ctx)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if gone := vanished(ids, onServer); len(gone) > 0 {
		if err := s.st.MarkRemoteIDsGone(ctx, gone); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		s.res.Vanished = len(gone)
	}
	dels := plan(ids, onServer, s.opts.Policy, s.opts.DeleteLocal, s.opts.Now())
	if len(dels) == 0 {
		// Nothing hangs on this QUIT: everything is stored already.
		c.Quit(ctx)
		return nil
	}
	nums := make([]int, len(dels))
	keyOf := make(map[int]string, len(dels))
	for i, d := range dels {
		nums[i], keyOf[d.num] = d.num, d.key
	}
	s.event(lbsync.Event{Phase: lbsync.PhaseDelete, Total: len(dels)})
	accepted, err := c.DeleMany(ctx, nums)
	if err != nil {
		return err
	}
	keys := make([]string, len(accepted))
	for i, n := range accepted {
		keys[i] = keyOf[n]
	}
	// RFC 1939 section 6: the server deletes in the UPDATE state, which
	// only QUIT enters; without its +OK we do not know, and the next
	// Sync finds out from the UIDL list.
	if err := c.Quit(ctx); err != nil {
		return fmt.Errorf("deletions not confirmed: %w", err)
	}
	if err := s.st.MarkRemoteIDsGone(ctx, keys); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.res.Deleted = len(keys)
	s.event(lbsync.Event{Phase: lbsync.PhaseDelete, Done: len(keys), Total: len(dels)})
	return nil
}

// download retrieves nums and appends each to INBOX as it streams in.
// The append of the next message starts before its body arrives, so that
// the store's per-message set-up (its file in tmp/) overlaps the reading
// of the current one; at most parallel appends run at once.
func (s *syncer) download(ctx context.Context, c *Client, nums []int, keyOf map[int]string) error {
	s.total = len(nums)
	if len(nums) == 0 {
		return nil
	}
	s.event(lbsync.Event{Phase: lbsync.PhaseDownload, Total: s.total})
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	start := func(n int) (*handoff, error) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		h := newHandoff()
		key := keyOf[n]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := s.st.Append(ctx, store.Inbox, h, store.AppendOptions{Remote: store.Remote{ID: key}})
			h.release()
			s.appended(ctx, key, res, h.err, err)
		}()
		return h, nil
	}
	next, err := start(nums[0])
	if err != nil {
		return err
	}
	i := 0
	err = c.RetrEach(ctx, nums, func(n int, body io.Reader, rerr error) error {
		cur := next
		next = nil
		if i++; i < len(nums) {
			var err error
			if next, err = start(nums[i]); err != nil {
				cur.give(nil)
				return err
			}
		}
		if rerr != nil {
			cur.give(nil)
			s.mu.Lock()
			s.res.Failed++
			s.mu.Unlock()
			s.event(lbsync.Event{Phase: lbsync.PhaseDownload, Total: s.total, Err: rerr})
			return nil
		}
		s.mu.Lock()
		serr := s.storeErr
		s.mu.Unlock()
		if serr != nil {
			cur.give(nil)
			return serr
		}
		cur.give(body)
		<-cur.done // the body was read to its end, or the append gave up
		return nil
	})
	if next != nil {
		next.give(nil)
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return s.storeErr
}

// appended records the outcome of one append. A failure caused by the
// connection (readErr) is the download's failure, reported by RetrEach.
func (s *syncer) appended(ctx context.Context, key string, res store.AppendResult, readErr, err error) {
	if err == nil {
		s.mu.Lock()
		s.res.Downloaded++
		s.res.Bytes += res.Size
		e := lbsync.Event{Account: s.opts.Account, Mailbox: store.Inbox, Phase: lbsync.PhaseDownload,
			Done: s.res.Downloaded, Total: s.total, Bytes: s.res.Bytes}
		s.opts.Report.Report(e)
		s.mu.Unlock()
		return
	}
	if readErr != nil {
		return
	}
	if errors.Is(err, store.ErrEmptyMessage) {
		// Nothing to keep; remember it so it is not fetched forever.
		err = s.st.RememberRemoteIDs(ctx, []string{key})
		if err == nil {
			s.mu.Lock()
			s.res.Skipped++
			s.mu.Unlock()
			return
		}
	}
	s.mu.Lock()
	if s.storeErr == nil {
		s.storeErr = fmt.Errorf("store: %w", err)
	}
	s.mu.Unlock()
}

// errNoBody is what an append started ahead reads when its message does
// not come (the server refused it, or the download stopped).
var errNoBody = errors.New("message not retrieved")

// handoff passes a message body from the connection to the goroutine
// that appends it. The append may start before the body is there: its
// first Read waits for give. The reader of the connection waits on done
// before it goes on: done is closed once the body was read to its end
// (or failed), or the append returned without reading it all.
type handoff struct {
	body chan io.Reader // receives the body, or nil for none
	done chan struct{}
	once sync.Once

	r   io.Reader
	end error // io.EOF or the body's error, once seen
	err error // the body's error other than io.EOF
}

func newHandoff() *handoff {
	return &handoff{body: make(chan io.Reader, 1), done: make(chan struct{})}
}

// give hands over the body; nil means there is none. Call it once.
func (h *handoff) give(r io.Reader) { h.body <- r }

func (h *handoff) Read(p []byte) (int, error) {
	if h.end != nil {
		return 0, h.end
	}
	if h.r == nil {
		if h.r = <-h.body; h.r == nil {
			h.end, h.err = errNoBody, errNoBody
			h.release()
			return 0, h.end
		}
	}
	n, err := h.r.Read(p)
	if err != nil {
		h.end = err
		if err != io.EOF {
			h.err = err
		}
		h.release()
	}
	return n, err
}

// release lets the reader of the connection go on.
func (h *handoff) release() { h.once.Do(func() { close(h.done) }) }
