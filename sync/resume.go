package sync

import (
	"context"
	"time"
)

// Resume says how a sync whose connection is lost goes on inside the
// same run, as mbsync does: it reconnects, after a growing delay, and
// starts over from what the store already has, so nothing stored is
// fetched again. Only a connection that failed for a Temporary reason
// after it was set up is resumed; a refused login, a certificate that
// does not verify or a hostile server end the run at once.
type Resume struct {
	// Attempts is the number of reconnections in one run: 3 when zero,
	// none when negative.
	Attempts int
	// Delay returns the wait before reconnection n (0, 1, ...): 1s, 2s,
	// 4s ... up to 30s when nil. Tests inject a short one.
	Delay func(n int) time.Duration
}

// Tries returns the number of reconnections allowed.
func (r Resume) Tries() int {
	switch {
	case r.Attempts < 0:
		return 0
	case r.Attempts == 0:
		return 3
	}
	return r.Attempts
}

// Sleep waits d; it returns false when ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// DelayOf returns the wait before reconnection n.
func (r Resume) DelayOf(n int) time.Duration {
	if r.Delay != nil {
		return r.Delay(n)
	}
	return min(time.Second<<min(n, 5), 30*time.Second)
}
