// Package queue is the server's durable outbound queue: mail for other
// domains waits here until the receiving server takes it, with retries
// and backoff, and comes back to the sender as a delivery status
// notification (RFC 3464) when it cannot be delivered.
//
// On disk, under DATA/queue/:
//
//	<id>.eml    the message, as it will be sent
//	<id>.json   the envelope and delivery state (Item)
//
// Enqueue is Prepare and Commit. Prepare writes and fsyncs the message
// as <id>.eml.tmp; Commit renames it, writes the state, then syncs the
// directory. The state file is what makes an item exist, so a crash
// before it leaves only a temporary file or an orphan .eml, removed at the
// next start.
// Before each attempt the time of the next one is stored, so a crash
// during delivery neither loses the item nor retries it in a tight loop.
// The command line (`letterbox serve queue`) edits the same files.
//
// The worker keeps the due time of every item in memory (a heap, see
// index.go), rebuilt from the directory at start; items added or retried
// in its own process are indexed at once. Waking up for one item never
// lists the directory. The command line, another process, touches
// DATA/queue/changed after a retry or drop; the worker looks at that
// file's time every PollInterval and lists the directory again only when
// it has changed, and every 10 minutes in any case (fullScanInterval).
//
// It imports no other letterbox package; local delivery of bounces is a
// function handed in.
package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrNotFound means there is no queued item with that id.
var ErrNotFound = errors.New("no such queue item")

// Rcpt states.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateFailed  = "failed" // permanent failure, bounced
)

// Rcpt is one recipient of a queued message.
type Rcpt struct {
	Addr  string `json:"addr"`
	State string `json:"state"`
	// Error is the last reply or error for this recipient.
	Error string `json:"error,omitempty"`
}

// Item is a queued message's envelope and state.
type Item struct {
	ID          string    `json:"id"`
	From        string    `json:"from"`
	Rcpts       []Rcpt    `json:"rcpts"`
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	Size        int64     `json:"size"`
	// UTF8 is Envelope.UTF8.
	UTF8 bool `json:"smtputf8,omitempty"`
}

// Pending returns the recipients still to deliver.
func (it *Item) Pending() []string {
	var out []string
	for _, r := range it.Rcpts {
		if r.State == StatePending {
			out = append(out, r.Addr)
		}
	}
	return out
}

// Dir is the on-disk queue without a delivery worker: what Enqueue and
// the command line need.
type Dir struct {
	path string
	// wake is signalled (non-blocking) when an item is added or retried.
	wake chan struct{}
	// onDue, set by Open before any use, updates the worker's index of
	// due times when an item is added or retried here.
	onDue func(id string, at time.Time)
	mu    sync.Mutex // serialises state-file rewrites within this process
}

// OpenDir opens (creating) the queue directory and removes orphan
// message files.
func OpenDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	d := &Dir{path: path, wake: make(chan struct{}, 1)}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".tmp"):
			os.Remove(filepath.Join(path, name))
		case strings.HasSuffix(name, ".eml"):
			id := strings.TrimSuffix(name, ".eml")
			if _, err := os.Stat(d.statePath(id)); errors.Is(err, os.ErrNotExist) {
				os.Remove(filepath.Join(path, name))
			}
		}
	}
	return d, nil
}

func (d *Dir) statePath(id string) string { return filepath.Join(d.path, id+".json") }

// MessagePath is the file holding the queued message.
func (d *Dir) MessagePath(id string) string { return filepath.Join(d.path, id+".eml") }

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Envelope is a message's sender and recipients as the queue keeps them.
type Envelope struct {
	From  string
	Rcpts []string
	// UTF8 says the message came with SMTPUTF8 (RFC 6531): its
	// addresses or header may carry UTF-8, and a next hop without
	// SMTPUTF8 gets it only if they do not.
	UTF8 bool
}

// Pending is a message written into the queue by Prepare but not queued
// yet: nothing delivers it before Commit, and a crash or Abort leaves
// nothing behind (OpenDir removes what it wrote). Exactly one of Commit
// and Abort must follow.
type Pending struct {
	d    *Dir
	it   *Item
	tmp  string
	done bool
}

// Prepare writes and fsyncs body for env under a new id, without making
// it an item yet.
func (d *Dir) Prepare(ctx context.Context, env Envelope, body io.Reader) (*Pending, error) {
	if len(env.Rcpts) == 0 {
		return nil, errors.New("queue: no recipients")
	}
	id := newID()
	tmp := d.MessagePath(id) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	n, err := io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("queue: write message: %w", err)
	}
	it := &Item{ID: id, From: env.From, UTF8: env.UTF8, Size: n}
	for _, r := range env.Rcpts {
		it.Rcpts = append(it.Rcpts, Rcpt{Addr: r, State: StatePending})
	}
	return &Pending{d: d, it: it, tmp: tmp}, nil
}

// Commit makes the prepared message a queue item, due now, and returns
// its id once the message, its state and the directory are on disk.
func (p *Pending) Commit() (string, error) {
	if p.done {
		return "", errors.New("queue: prepared message already committed or aborted")
	}
	p.done = true
	d, it := p.d, p.it
	if err := os.Rename(p.tmp, d.MessagePath(it.ID)); err != nil {
		os.Remove(p.tmp)
		return "", fmt.Errorf("queue: write message: %w", err)
	}
	it.Created = time.Now().UTC()
	it.NextAttempt = it.Created
	if err := d.save(it); err != nil {
		os.Remove(d.MessagePath(it.ID))
		return "", err
	}
	if err := syncDir(d.path); err != nil {
		d.Drop(it.ID)
		return "", fmt.Errorf("queue: %w", err)
	}
	d.due(it.ID, it.NextAttempt)
	return it.ID, nil
}

// Abort removes the prepared message; it does nothing after Commit.
func (p *Pending) Abort() {
	if !p.done {
		p.done = true
		os.Remove(p.tmp)
	}
}

// Enqueue stores body for rcpts and returns the new item's id once both
// files and the directory are on disk. It is Prepare and Commit, with
// UTF8 set when an address is not ASCII.
func (d *Dir) Enqueue(ctx context.Context, from string, rcpts []string, body io.Reader) (string, error) {
	utf8 := !isASCII(from)
	for _, r := range rcpts {
		utf8 = utf8 || !isASCII(r)
	}
	p, err := d.Prepare(ctx, Envelope{From: from, Rcpts: rcpts, UTF8: utf8}, body)
	if err != nil {
		return "", err
	}
	return p.Commit()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// due tells the worker (if this Dir is a Queue's) that an item is due at
// at, and wakes it.
func (d *Dir) due(id string, at time.Time) {
	if d.onDue != nil {
		d.onDue(id, at)
	}
	d.poke()
}

func (d *Dir) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// save writes the state file atomically.
func (d *Dir) save(it *Item) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	data, err := json.MarshalIndent(it, "", "  ")
	if err != nil {
		return err
	}
	tmp := d.statePath(it.ID) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, d.statePath(it.ID))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: save %s: %w", it.ID, err)
	}
	return nil
}

// Get reads one item.
func (d *Dir) Get(id string) (*Item, error) {
	if strings.ContainsAny(id, `/\`) || id == "" {
		return nil, fmt.Errorf("queue: %q: %w", id, ErrNotFound)
	}
	data, err := os.ReadFile(d.statePath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("queue: %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var it Item
	if err := json.Unmarshal(data, &it); err != nil {
		return nil, fmt.Errorf("queue: %s: corrupt state: %w", id, err)
	}
	return &it, nil
}

// List returns every item, oldest first.
func (d *Dir) List() ([]*Item, error) {
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var items []*Item
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		it, err := d.Get(id)
		if errors.Is(err, ErrNotFound) {
			continue // delivered meanwhile
		}
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Created.Before(items[j].Created) })
	return items, nil
}

// changedName is the file a process without the worker touches after it
// has changed the queue, for the worker to list the directory again.
const changedName = "changed"

// changed tells a worker in another process that the queue changed. A
// worker's own Dir tells its index directly.
func (d *Dir) changed() {
	if d.onDue != nil {
		return
	}
	// Only the file's time matters, and it changes once: a new file
	// renamed over the old one (a rewrite in place changes it at the
	// truncation and again at the write, and the worker could see
	// both). A failure leaves the change to the worker's next full
	// listing.
	path := filepath.Join(d.path, changedName)
	if err := os.WriteFile(path+".tmp", []byte(time.Now().UTC().Format(time.RFC3339Nano)+"\n"), 0o600); err == nil {
		os.Rename(path+".tmp", path)
	}
}

// changedAt is the time of the changed file, zero when there is none.
func (d *Dir) changedAt() time.Time {
	fi, err := os.Stat(filepath.Join(d.path, changedName))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// Retry makes an item due now.
func (d *Dir) Retry(id string) error {
	it, err := d.Get(id)
	if err != nil {
		return err
	}
	it.NextAttempt = time.Now().UTC()
	if err := d.save(it); err != nil {
		return err
	}
	d.changed()
	d.due(id, it.NextAttempt)
	return nil
}

// Drop deletes an item without bouncing it.
func (d *Dir) Drop(id string) error {
	if _, err := d.Get(id); err != nil {
		return err
	}
	if err := os.Remove(d.statePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("queue: drop %s: %w", id, err)
	}
	os.Remove(d.MessagePath(id))
	d.changed()
	return nil
}

func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
