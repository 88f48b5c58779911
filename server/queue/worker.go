package queue

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Resolver looks up mail exchangers; *net.Resolver is one, tests use a
// map. If it also has LookupTXT (TXTResolver), MTA-STS is applied.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Options configure the delivery worker. Zero values pick the defaults.
type Options struct {
	// Hostname is sent in EHLO and used in bounces.
	Hostname string
	// Resolver finds MX and address records; net.DefaultResolver.
	Resolver Resolver
	// Port is the SMTP port of remote servers; "25". Tests point it at a
	// loopback listener.
	Port string
	// Dial opens connections; a net.Dialer with a 30 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// RetryWindow is how long a message is retried before it bounces;
	// 5 days.
	RetryWindow time.Duration
	// Backoff gives the wait after the n-th failed attempt (n from 1);
	// 1, 5, 15, 30 minutes, then 1, 2, 4 hours, then every 4 hours.
	Backoff func(n int) time.Duration
	// Concurrency is how many items are delivered at once; 8.
	Concurrency int
	// PollInterval bounds how long the worker sleeps, and is how often it
	// looks for changes another process made (the changed file); 30 s.
	PollInterval time.Duration
	// IsLocal reports whether a bounce's recipient is a local user;
	// LocalDeliver puts the bounce in their INBOX. Without them bounces
	// are queued like any other mail.
	IsLocal      func(addr string) bool
	LocalDeliver func(ctx context.Context, addr string, r io.Reader) error
	// TLSRoots verify MX certificates under MTA-STS; the system's when
	// nil.
	TLSRoots *x509.CertPool
	// HTTPClient fetches MTA-STS policies (its redirects are not
	// followed); a client with a 30 s timeout when nil.
	HTTPClient *http.Client
	// MTASTSDir caches MTA-STS policies; DIR/mta-sts under the queue.
	MTASTSDir string
	// Sign, when set, returns the message as it should be sent (DKIM).
	Sign   func(r io.Reader, w io.Writer) error
	Logger *slog.Logger
}

// DefaultBackoff is the retry schedule used when Options.Backoff is nil.
func DefaultBackoff(n int) time.Duration {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour}
	if n >= 1 && n <= len(steps) {
		return steps[n-1]
	}
	return 4 * time.Hour
}

// Queue is the outbound queue with its delivery worker.
type Queue struct {
	*Dir
	opts Options
	log  *slog.Logger
	idx  *dueIndex
	sts  *stsCache
	// onScan, when set (tests), is called at each listing of the queue
	// directory.
	onScan func()
	// onPoll, when set (tests), is called each time the worker checks
	// whether a listing is due.
	onPoll func()
	// listedChange is the time of the changed file when the directory
	// was last listed, listedAt when; only Open and Run use them.
	listedChange, listedAt time.Time

	mu       sync.Mutex
	inflight map[string]bool
}

// Open opens the queue at path and indexes its items; call Run to
// deliver.
func Open(path string, opts Options) (*Queue, error) {
	d, err := OpenDir(path)
	if err != nil {
		return nil, err
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Port == "" {
		opts.Port = "25"
	}
	if opts.Dial == nil {
		dl := &net.Dialer{Timeout: 30 * time.Second}
		opts.Dial = dl.DialContext
	}
	if opts.RetryWindow <= 0 {
		opts.RetryWindow = 5 * 24 * time.Hour
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MTASTSDir == "" {
		opts.MTASTSDir = filepath.Join(path, "mta-sts")
	}
	q := &Queue{Dir: d, opts: opts, log: opts.Logger, idx: newDueIndex(), inflight: map[string]bool{},
		sts: newSTSCache(opts.MTASTSDir, opts.Resolver, opts.HTTPClient, opts.Logger)}
	d.onDue = q.idx.set
	if err := q.rescan(); err != nil {
		return nil, err
	}
	return q, nil
}

// fullScanInterval is how often the worker lists the queue directory
// even when the changed file says nothing changed (a file edited by
// hand, a command line of another version).
const fullScanInterval = 10 * time.Minute

// rescan rebuilds the index from the queue directory: at Open, then when
// another process (the command line's retry and drop) has touched the
// changed file, and every fullScanInterval. Items being attempted are
// left out; their attempt re-indexes them.
func (q *Queue) rescan() error {
	if q.onScan != nil {
		q.onScan()
	}
	q.listedChange, q.listedAt = q.changedAt(), time.Now()
	since := q.idx.stamp()
	items, err := q.List()
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.idx.reset(items, since, func(id string) bool { return q.inflight[id] })
	return nil
}

// Run delivers due items until ctx is done, then waits for the attempts
// in progress to finish. It sleeps until the earliest due time in its
// index, a new or retried item, or the next rescan.
func (q *Queue) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, q.opts.Concurrency)
	nextScan := time.Now().Add(q.opts.PollInterval)
	for {
		if !time.Now().Before(nextScan) {
			if q.onPoll != nil {
				q.onPoll()
			}
			if !q.changedAt().Equal(q.listedChange) || time.Since(q.listedAt) >= max(fullScanInterval, q.opts.PollInterval) {
				if err := q.rescan(); err != nil {
					q.log.Error("queue scan", "err", err)
				}
			}
			nextScan = time.Now().Add(q.opts.PollInterval)
		}
		full := false
		for !full {
			select {
			case sem <- struct{}{}:
			default:
				full = true
				continue
			}
			id, ok := q.idx.popDue(time.Now())
			q.mu.Lock()
			busy := ok && q.inflight[id]
			if ok && !busy {
				q.inflight[id] = true
			}
			q.mu.Unlock()
			if !ok || busy {
				<-sem
				if !ok {
					break
				}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.attemptID(ctx, id)
				q.mu.Lock()
				delete(q.inflight, id)
				q.mu.Unlock()
				<-sem
				q.poke()
			}()
		}
		// With every slot busy only a finished attempt (a poke) or the
		// rescan can start more.
		wait := nextScan
		if at, ok := q.idx.next(); ok && at.Before(wait) && !full {
			wait = at
		}
		t := time.NewTimer(time.Until(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-q.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// attemptID reads item id and attempts it, then indexes its next
// attempt unless it is done.
func (q *Queue) attemptID(ctx context.Context, id string) {
	it, err := q.Get(id)
	if errors.Is(err, ErrNotFound) {
		return // dropped meanwhile
	}
	if err != nil {
		q.log.Error("queue read", "id", id, "err", err)
		q.idx.set(id, time.Now().Add(q.opts.Backoff(1)))
		return
	}
	if q.attempt(ctx, it) {
		q.idx.set(id, it.NextAttempt)
	}
}

// result of delivering to one recipient.
type result struct {
	perm bool // permanent failure
	temp bool // temporary failure
	msg  string
}

// attempt tries every pending recipient of it once and reports whether
// the item stays queued.
func (q *Queue) attempt(ctx context.Context, it *Item) bool {
	// Store the next attempt first: a crash from here on retries later,
	// never in a loop.
	it.Attempts++
	it.NextAttempt = time.Now().Add(q.opts.Backoff(it.Attempts)).UTC()
	if err := q.save(it); err != nil {
		q.log.Error("queue save", "id", it.ID, "err", err)
		return true
	}
	byDomain := map[string][]string{}
	var domains []string
	for _, r := range it.Pending() {
		_, dom, _ := strings.Cut(r, "@")
		dom = strings.ToLower(dom)
		if _, ok := byDomain[dom]; !ok {
			domains = append(domains, dom)
		}
		byDomain[dom] = append(byDomain[dom], r)
	}
	results := map[string]result{}
	for _, dom := range domains {
		for rcpt, res := range q.sendDomain(ctx, it, dom, byDomain[dom]) {
			results[rcpt] = res
		}
	}
	expired := time.Since(it.Created) > q.opts.RetryWindow
	var failed []Rcpt
	for i := range it.Rcpts {
		r := &it.Rcpts[i]
		res, ok := results[r.Addr]
		if r.State != StatePending || !ok {
			continue
		}
		r.Error = res.msg
		switch {
		case !res.perm && !res.temp:
			r.State = StateSent
			q.log.Info("queue delivered", "id", it.ID, "rcpt", r.Addr, "reply", res.msg)
		case res.perm:
			r.State = StateFailed
			failed = append(failed, *r)
			q.log.Warn("queue failed permanently", "id", it.ID, "rcpt", r.Addr, "reply", res.msg)
		case expired:
			r.State = StateFailed
			r.Error = fmt.Sprintf("gave up after %s: %s", q.opts.RetryWindow, res.msg)
			failed = append(failed, *r)
			q.log.Warn("queue expired", "id", it.ID, "rcpt", r.Addr, "reply", res.msg)
		default:
			it.LastError = res.msg
			q.log.Info("queue deferred", "id", it.ID, "rcpt", r.Addr, "reply", res.msg, "next", it.NextAttempt)
		}
	}
	if len(failed) > 0 && it.From != "" {
		if err := q.bounce(ctx, it, failed); err != nil {
			q.log.Error("queue bounce", "id", it.ID, "err", err)
			// Keep the failures pending so the bounce is tried again.
			for i := range it.Rcpts {
				for _, f := range failed {
					if it.Rcpts[i].Addr == f.Addr {
						it.Rcpts[i].State = StatePending
					}
				}
			}
		}
	}
	if len(it.Pending()) == 0 {
		if err := os.Remove(q.statePath(it.ID)); err != nil {
			q.log.Error("queue remove", "id", it.ID, "err", err)
		}
		os.Remove(q.MessagePath(it.ID))
		return false
	}
	if err := q.save(it); err != nil {
		q.log.Error("queue save", "id", it.ID, "err", err)
	}
	return true
}
