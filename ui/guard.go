package ui

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// Bubble Tea does not wait for the goroutines of running Cmds when the
// program ends, and every Cmd that reads or changes mail runs on one. So
// that the caller of Run may close its accounts as soon as Run returns,
// Run hands the model its Backends and Setup wrapped in a gate: every
// call that may touch an account passes it, and Run, after cancelling
// the interface's context, closes the gate, which waits for the calls in
// flight and makes later ones fail with errClosing at once.

// errClosing is the error of a Backend call made after the interface
// began to close.
var errClosing = errors.New("the interface is closing")

// gate counts calls in flight until closed.
type gate struct {
	mu     sync.Mutex
	idle   sync.Cond
	n      int
	closed bool
}

func newGate() *gate {
	g := &gate{}
	g.idle.L = &g.mu
	return g
}

// enter admits a call, or returns false once the gate is closed. Every
// admitted call must leave.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		g.idle.Broadcast()
	}
}

// close refuses new calls and waits for the admitted ones to leave.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.n > 0 {
		g.idle.Wait()
	}
}

// through runs f if the gate admits it, else returns errClosing.
func through[T any](g *gate, f func() (T, error)) (T, error) {
	if !g.enter() {
		var zero T
		return zero, errClosing
	}
	defer g.leave()
	return f()
}

// gatedBackend passes every call of b that may touch the account through
// g. Name, Address, Compose and Temporary only read the configuration.
type gatedBackend struct {
	b Backend
	g *gate
}

var _ Backend = gatedBackend{}

func (gb gatedBackend) Name() string             { return gb.b.Name() }
func (gb gatedBackend) Address() string          { return gb.b.Address() }
func (gb gatedBackend) Compose() *compose.Draft  { return gb.b.Compose() }
func (gb gatedBackend) Temporary(err error) bool { return gb.b.Temporary(err) }

// run passes f through the gate.
func (gb gatedBackend) run(f func() error) error {
	_, err := through(gb.g, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

func (gb gatedBackend) Mailboxes(ctx context.Context) ([]accounts.Mailbox, error) {
	return through(gb.g, func() ([]accounts.Mailbox, error) { return gb.b.Mailboxes(ctx) })
}

func (gb gatedBackend) Page(ctx context.Context, req PageRequest) ([]accounts.Message, error) {
	return through(gb.g, func() ([]accounts.Message, error) { return gb.b.Page(ctx, req) })
}

func (gb gatedBackend) Count(ctx context.Context, req PageRequest) (int, error) {
	return through(gb.g, func() (int, error) { return gb.b.Count(ctx, req) })
}

func (gb gatedBackend) Message(ctx context.Context, id int64) (accounts.Message, error) {
	return through(gb.g, func() (accounts.Message, error) { return gb.b.Message(ctx, id) })
}

func (gb gatedBackend) Position(ctx context.Context, req PageRequest, id int64) (int, error) {
	return through(gb.g, func() (int, error) { return gb.b.Position(ctx, req, id) })
}

func (gb gatedBackend) Render(ctx context.Context, id int64) (*accounts.Rendered, error) {
	return through(gb.g, func() (*accounts.Rendered, error) { return gb.b.Render(ctx, id) })
}

func (gb gatedBackend) HTML(ctx context.Context, id int64) (string, error) {
	return through(gb.g, func() (string, error) { return gb.b.HTML(ctx, id) })
}

func (gb gatedBackend) SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error) {
	return through(gb.g, func() (int64, error) { return gb.b.SaveAttachment(ctx, id, part, w) })
}

func (gb gatedBackend) SetFlags(ctx context.Context, ids []int64, add, remove []string) error {
	return gb.run(func() error { return gb.b.SetFlags(ctx, ids, add, remove) })
}

func (gb gatedBackend) Move(ctx context.Context, ids []int64, folder string) error {
	return gb.run(func() error { return gb.b.Move(ctx, ids, folder) })
}

func (gb gatedBackend) Delete(ctx context.Context, ids []int64) error {
	return gb.run(func() error { return gb.b.Delete(ctx, ids) })
}

func (gb gatedBackend) Archive(ctx context.Context, ids []int64) error {
	return gb.run(func() error { return gb.b.Archive(ctx, ids) })
}

func (gb gatedBackend) DeletedForGood(ctx context.Context, ids []int64) ([]int64, error) {
	return through(gb.g, func() ([]int64, error) { return gb.b.DeletedForGood(ctx, ids) })
}

func (gb gatedBackend) Snapshot(ctx context.Context, ids []int64, scope []string) (accounts.Snapshot, error) {
	return through(gb.g, func() (accounts.Snapshot, error) { return gb.b.Snapshot(ctx, ids, scope) })
}

func (gb gatedBackend) Restore(ctx context.Context, s accounts.Snapshot) (int, error) {
	return through(gb.g, func() (int, error) { return gb.b.Restore(ctx, s) })
}

func (gb gatedBackend) Trash(ctx context.Context) (string, error) {
	return through(gb.g, func() (string, error) { return gb.b.Trash(ctx) })
}

func (gb gatedBackend) Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error) {
	return through(gb.g, func() (*compose.Draft, error) { return gb.b.Reply(ctx, id, all) })
}

func (gb gatedBackend) Forward(ctx context.Context, id int64) (*compose.Draft, error) {
	return through(gb.g, func() (*compose.Draft, error) { return gb.b.Forward(ctx, id) })
}

func (gb gatedBackend) Queue(ctx context.Context, d *compose.Draft) error {
	return gb.run(func() error { return gb.b.Queue(ctx, d) })
}

func (gb gatedBackend) SaveDraft(ctx context.Context, d *compose.Draft) error {
	return gb.run(func() error { return gb.b.SaveDraft(ctx, d) })
}

func (gb gatedBackend) OpenDraft(ctx context.Context, id int64) (*compose.Draft, error) {
	return through(gb.g, func() (*compose.Draft, error) { return gb.b.OpenDraft(ctx, id) })
}

func (gb gatedBackend) ReplaceDraft(ctx context.Context, old int64, d *compose.Draft) (int64, error) {
	return through(gb.g, func() (int64, error) { return gb.b.ReplaceDraft(ctx, old, d) })
}

func (gb gatedBackend) DeleteDraft(ctx context.Context, id int64) error {
	return gb.run(func() error { return gb.b.DeleteDraft(ctx, id) })
}

func (gb gatedBackend) CreateFolder(ctx context.Context, name string) error {
	return gb.run(func() error { return gb.b.CreateFolder(ctx, name) })
}

func (gb gatedBackend) FailedChanges(ctx context.Context) ([]FailedChange, error) {
	return through(gb.g, func() ([]FailedChange, error) { return gb.b.FailedChanges(ctx) })
}

func (gb gatedBackend) RetryChange(ctx context.Context, id int64) error {
	return gb.run(func() error { return gb.b.RetryChange(ctx, id) })
}

func (gb gatedBackend) DropChange(ctx context.Context, id int64) error {
	return gb.run(func() error { return gb.b.DropChange(ctx, id) })
}

func (gb gatedBackend) MarkAnswered(ctx context.Context, id int64) error {
	return gb.run(func() error { return gb.b.MarkAnswered(ctx, id) })
}

func (gb gatedBackend) Sync(ctx context.Context, report func(accounts.SyncEvent)) (SyncSummary, error) {
	return through(gb.g, func() (SyncSummary, error) { return gb.b.Sync(ctx, report) })
}

func (gb gatedBackend) Flush(ctx context.Context, report func(accounts.SyncEvent)) (int, error) {
	return through(gb.g, func() (int, error) { return gb.b.Flush(ctx, report) })
}

func (gb gatedBackend) Addresses(ctx context.Context, prefix string, limit int) ([]accounts.Address, error) {
	return through(gb.g, func() ([]accounts.Address, error) { return gb.b.Addresses(ctx, prefix, limit) })
}

// Subscribe opens the feed through the gate; after the gate closed it
// returns a feed that is closed already.
func (gb gatedBackend) Subscribe() Feed {
	f, err := through(gb.g, func() (Feed, error) { return gb.b.Subscribe(), nil })
	if err != nil {
		return closedFeed{}
	}
	return gatedFeed{f: f, g: gb.g}
}

// gatedFeed passes Pull through the gate (after it closed, Pull returns
// nothing).
type gatedFeed struct {
	f Feed
	g *gate
}

func (gf gatedFeed) C() <-chan struct{} { return gf.f.C() }
func (gf gatedFeed) Close()             { gf.f.Close() }
func (gf gatedFeed) Pull() []accounts.Change {
	ch, _ := through(gf.g, func() ([]accounts.Change, error) { return gf.f.Pull(), nil })
	return ch
}

// closedFeed is a feed that has ended.
type closedFeed struct{}

func (closedFeed) C() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (closedFeed) Pull() []accounts.Change { return nil }
func (closedFeed) Close()                  {}

// gatedSetup passes the wizard's Setup through the gate, gates the
// Backends it opens and keeps them, for Run to close once the gate is
// closed: an account the wizard opened belongs to the interface.
type gatedSetup struct {
	s Setup
	g *gate

	mu     sync.Mutex
	opened []Backend
}

var _ Setup = (*gatedSetup)(nil)

func (gs *gatedSetup) Configure(ctx context.Context, name, email string, manual ManualServers, log func(string)) (accounts.AccountConfig, error) {
	return through(gs.g, func() (accounts.AccountConfig, error) { return gs.s.Configure(ctx, name, email, manual, log) })
}

func (gs *gatedSetup) TestLogin(ctx context.Context, acct accounts.AccountConfig, password string) error {
	_, err := through(gs.g, func() (struct{}, error) { return struct{}{}, gs.s.TestLogin(ctx, acct, password) })
	return err
}

func (gs *gatedSetup) Save(ctx context.Context, acct accounts.AccountConfig, password, passwordCmd string) error {
	_, err := through(gs.g, func() (struct{}, error) { return struct{}{}, gs.s.Save(ctx, acct, password, passwordCmd) })
	return err
}

func (gs *gatedSetup) Open(ctx context.Context, acct accounts.AccountConfig) (Backend, error) {
	b, err := through(gs.g, func() (Backend, error) { return gs.s.Open(ctx, acct) })
	if err != nil {
		return nil, err
	}
	gs.mu.Lock()
	gs.opened = append(gs.opened, b)
	gs.mu.Unlock()
	return gatedBackend{b: b, g: gs.g}, nil
}

// closeOpened closes the Backends Open returned that can be closed (an
// AccountBackend closes its account). Call it after the gate is closed.
func (gs *gatedSetup) closeOpened() error {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	var errs []error
	for _, b := range gs.opened {
		if c, ok := b.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	gs.opened = nil
	return errors.Join(errs...)
}
