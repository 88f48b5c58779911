package backend

import (
	"context"
	"net"
	"time"
)

// Defaults of the login penalty (Options).
const (
	DefaultMaxFailures   = 10
	DefaultFailureWindow = 10 * time.Minute
	DefaultMaxDelay      = 4 * time.Second
	// penaltyBase is the delay after an address's first failure; it
	// doubles with each further failure up to MaxDelay.
	penaltyBase = 250 * time.Millisecond
	// maxPenaltyEntries bounds the memory of the penalty tables under a
	// spray of addresses and names.
	maxPenaltyEntries = 100000
)

// strikes counts failures that decay: the count starts again once a
// window has passed since the last one.
type strikes struct {
	n    int
	last time.Time
}

// penalty is the failed-login state of a Backend, after Dovecot's auth
// penalty: per IP, a delay before each answer that doubles with each
// failure (up to a few seconds), so guessing from one address (one /64
// for IPv6) is slow for every account; per (IP, account), a lockout after MaxFailures, so a
// forgotten password on one phone behind an office's NAT locks out that
// account from that address and nobody else.
type penalty struct {
	byIP      map[string]strikes
	byAccount map[accountKey]strikes
}

type accountKey struct{ ip, login string }

// live returns s as it stands at now: emptied once the window has passed.
func (b *Backend) live(s strikes, now time.Time) strikes {
	if now.Sub(s.last) >= b.opts.FailureWindow {
		return strikes{}
	}
	return s
}

// delayFor is the wait before answering an address with n failures.
func (b *Backend) delayFor(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := penaltyBase
	for i := 1; i < n && d < b.opts.MaxDelay; i++ {
		d *= 2
	}
	return min(d, b.opts.MaxDelay)
}

// check returns the delay owed by ip and whether login is locked out for
// it.
func (b *Backend) check(ip, login string, now time.Time) (time.Duration, bool) {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	n := b.live(b.pen.byIP[ip], now).n
	locked := b.live(b.pen.byAccount[accountKey{ip, login}], now).n >= b.opts.MaxFailures
	return b.delayFor(n), locked
}

// fail records a failed login and returns the delay owed for it.
func (b *Backend) fail(ip, login string, now time.Time) time.Duration {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	if len(b.pen.byIP) >= maxPenaltyEntries || len(b.pen.byAccount) >= maxPenaltyEntries {
		b.pruneLocked(now)
	}
	s := b.live(b.pen.byIP[ip], now)
	s.n++
	s.last = now
	b.pen.byIP[ip] = s
	k := accountKey{ip, login}
	a := b.live(b.pen.byAccount[k], now)
	a.n++
	a.last = now
	b.pen.byAccount[k] = a
	return b.delayFor(s.n)
}

// pruneLocked drops expired entries, and if that is not enough, all of
// them: memory stays bounded whatever the spray of addresses.
func (b *Backend) pruneLocked(now time.Time) {
	for k, s := range b.pen.byIP {
		if b.live(s, now).n == 0 {
			delete(b.pen.byIP, k)
		}
	}
	for k, s := range b.pen.byAccount {
		if b.live(s, now).n == 0 {
			delete(b.pen.byAccount, k)
		}
	}
	if len(b.pen.byIP) >= maxPenaltyEntries || len(b.pen.byAccount) >= maxPenaltyEntries {
		b.log.Warn("auth penalty tables full; forgetting all failures")
		clear(b.pen.byIP)
		clear(b.pen.byAccount)
	}
}

// penaltyKey is the address failures are counted under: the IP, or the
// /64 network of an IPv6 address, so that a client cannot escape its
// penalty by moving within its own allocation.
func penaltyKey(a net.Addr) string {
	h := HostOf(a)
	ip := net.ParseIP(h)
	if ip == nil || ip.To4() != nil {
		return h
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
