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
// Enqueue writes and fsyncs the message, then the state, then the
// directory; the state file is what makes an item exist, so a crash
// between the two leaves only an orphan .eml, removed at the next start.
// Before each attempt the time of the next one is stored, so a crash
// during delivery neither loses the item nor retries it in a tight loop.
// The command line (`letterbox serve queue`) edits the same files.
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
	mu   sync.Mutex // serialises state-file rewrites within this process
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

// Enqueue stores body for rcpts and returns the new item's id once both
// files and the directory are on disk.
func (d *Dir) Enqueue(ctx context.Context, from string, rcpts []string, body io.Reader) (string, error) {
	if len(rcpts) == 0 {
		return "", errors.New("queue: no recipients")
	}
	id := newID()
	tmp := d.MessagePath(id) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("queue: %w", err)
	}
	n, err := io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, d.MessagePath(id))
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("queue: write message: %w", err)
	}
	it := &Item{ID: id, From: from, Created: time.Now().UTC(), NextAttempt: time.Now().UTC(), Size: n}
	for _, r := range rcpts {
		it.Rcpts = append(it.Rcpts, Rcpt{Addr: r, State: StatePending})
	}
	if err := d.save(it); err != nil {
		os.Remove(d.MessagePath(id))
		return "", err
	}
	if err := syncDir(d.path); err != nil {
		d.Cancel(id)
		return "", fmt.Errorf("queue: %w", err)
	}
	d.poke()
	return id, nil
}

func (d *Dir) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Cancel removes an item (used to roll back an Enqueue).
func (d *Dir) Cancel(id string) error { return d.Drop(id) }

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
	d.poke()
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
