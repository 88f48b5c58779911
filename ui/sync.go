package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// Background work that streams: a sync (or an outbox flush) runs in a
// goroutine that writes its progress events and a final syncDoneMsg to a
// channel; syncStartedMsg hands the channel to Update, which re-arms
// waitStream after every message until the done message. The store's
// change feed is read the same way by watchFeed.

// feedCoalesce gathers a burst of commits (a sync adding thousands of
// messages) into one refresh.
const feedCoalesce = 150 * time.Millisecond

// startSync runs one sync of b.
func startSync(ctx context.Context, b Backend) tea.Cmd {
	return stream(ctx, b, func(report func(accounts.SyncEvent)) (SyncSummary, error) {
		return b.Sync(ctx, report)
	})
}

// startFlush sends b's Outbox.
func startFlush(ctx context.Context, b Backend) tea.Cmd {
	return stream(ctx, b, func(report func(accounts.SyncEvent)) (SyncSummary, error) {
		n, err := b.Flush(ctx, report)
		return SyncSummary{Sent: n, OutboxErr: err}, nil
	})
}

func stream(ctx context.Context, b Backend, run func(report func(accounts.SyncEvent)) (SyncSummary, error)) tea.Cmd {
	name := b.Name()
	return func() tea.Msg {
		ch := make(chan tea.Msg, 64)
		go func() {
			defer close(ch)
			sum, err := run(reporter(ctx, name, ch))
			done := syncDoneMsg{account: name, sum: sum, err: err}
			done.offline = err != nil && b.Temporary(err) || sum.OutboxErr != nil && b.Temporary(sum.OutboxErr)
			select {
			case ch <- done:
			case <-ctx.Done():
			}
		}()
		return syncStartedMsg{account: name, ch: ch}
	}
}

// reporter sends the events of account name's sync to ch as
// syncEventMsgs.
func reporter(ctx context.Context, name string, ch chan tea.Msg) func(accounts.SyncEvent) {
	return func(ev accounts.SyncEvent) {
		m := syncEventMsg{account: name, ev: ev, ch: ch}
		if ev.Err == nil && (ev.Total == 0 || ev.Done < ev.Total) {
			select { // progress may be dropped: the next one supersedes it
			case ch <- m:
			default:
			}
			return
		}
		select { // errors and ends of phases are not dropped
		case ch <- m:
		case <-ctx.Done():
		}
	}
}

// waitStream returns the next message of a stream.
func waitStream(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return m
	}
}

// watchFeed waits for the next batch of store changes of account name,
// then gathers what else comes within coalesce (the context ending cuts
// the wait short).
func watchFeed(ctx context.Context, name string, f Feed, coalesce time.Duration) tea.Cmd {
	return func() tea.Msg {
		if _, ok := <-f.C(); !ok {
			return feedMsg{account: name, closed: true}
		}
		if coalesce > 0 {
			t := time.NewTimer(coalesce)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
		return feedMsg{account: name, changes: f.Pull()}
	}
}

// syncTick schedules the next periodic sync.
func syncTick(d time.Duration) tea.Cmd {
	if d <= 0 {
		return nil
	}
	return tea.Tick(d, func(t time.Time) tea.Msg { return syncTickMsg{at: t} })
}
