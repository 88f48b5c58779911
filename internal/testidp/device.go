package testidp

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deviceGrant is one device authorization request (RFC 8628 section 3.1)
// and its fate.
type deviceGrant struct {
	client   Client
	userCode string
	scope    string
	expiry   time.Time
	lastPoll time.Time
	approved *User
	denied   bool
	done     bool
	seen     bool // returned by WaitUserCode
}

// userCodeAlphabet has no vowels and no look-alikes (RFC 8628 section
// 6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// normUserCode is how a user code typed by a person compares: case,
// dashes and spaces do not count (RFC 8628 section 6.1).
func normUserCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// serveDeviceAuthorization is the device authorization endpoint (RFC 8628
// section 3.1, answered as section 3.2 says).
func (p *IdP) serveDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	c, err := p.authClient(r)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	dc := "dc-" + randomString(24)
	uc := newUserCode()
	p.mu.Lock()
	d := &deviceGrant{client: c, userCode: uc, scope: r.PostForm.Get("scope"), expiry: p.now().Add(p.opts.DeviceCodeTTL)}
	p.devices[dc] = d
	p.userCode[normUserCode(uc)] = dc
	p.mu.Unlock()
	p.notify()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               dc,
		"user_code":                 uc,
		"verification_uri":          p.VerificationURL(),
		"verification_uri_complete": p.VerificationURL() + "?user_code=" + url.QueryEscape(uc),
		"expires_in":                int(p.opts.DeviceCodeTTL / time.Second),
		"interval":                  p.interval(),
	})
}

// interval is the polling interval in whole seconds, at least 1.
func (p *IdP) interval() int { return max(1, int(p.opts.DeviceInterval/time.Second)) }

// serveDevicePage is the verification URI a person would open; tests
// approve with Approve instead.
func (p *IdP) serveDevicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>testidp</title><p>Enter the code shown on your device: %s</p>",
		html.EscapeString(r.URL.Query().Get("user_code")))
}

// deviceGrant answers a poll of the token endpoint (RFC 8628 sections 3.4
// and 3.5).
func (p *IdP) deviceGrant(c Client, form url.Values) (Tokens, string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.DevicePolls++
	d, ok := p.devices[form.Get("device_code")]
	now := p.now()
	switch {
	case !ok:
		return Tokens{}, "invalid_grant", "unknown device code"
	case d.client.ID != c.ID:
		return Tokens{}, "invalid_grant", "device code of another client"
	case d.done:
		return Tokens{}, "invalid_grant", "device code already used"
	case p.faults[FaultExpiredDeviceCode] || !now.Before(d.expiry):
		return Tokens{}, "expired_token", "the device code has expired"
	case d.denied:
		return Tokens{}, "access_denied", "the user denied the request"
	}
	last := d.lastPoll
	d.lastPoll = now
	if p.faults[FaultSlowDown] {
		p.faults[FaultSlowDown] = false
		return Tokens{}, "slow_down", "polling too often"
	}
	if !last.IsZero() && now.Sub(last) < time.Duration(p.interval())*time.Second/2 {
		return Tokens{}, "slow_down", "polling too often"
	}
	if d.approved == nil {
		return Tokens{}, "authorization_pending", "waiting for the user"
	}
	d.done = true
	f := p.newFamilyLocked(d.client, *d.approved, d.scope, "")
	t, err := p.mintLocked(f, p.opts.AccessTTL)
	if err != nil {
		return Tokens{}, "server_error", err.Error()
	}
	p.counts.DeviceGrants++
	return t, "", ""
}

// Approve approves a device authorization as the signed-in user, as a
// person would on the verification page. Case and dashes of userCode do
// not matter.
func (p *IdP) Approve(userCode string) error {
	p.mu.Lock()
	u := p.user
	p.mu.Unlock()
	return p.ApproveAs(userCode, u)
}

// ApproveAs approves a device authorization as u.
func (p *IdP) ApproveAs(userCode string, u User) error {
	if u.Subject == "" {
		u.Subject = u.Email
	}
	return p.decide(userCode, func(d *deviceGrant) { d.approved = &u })
}

// Deny refuses a device authorization: the client's next poll gets
// access_denied.
func (p *IdP) Deny(userCode string) error {
	return p.decide(userCode, func(d *deviceGrant) { d.denied = true })
}

func (p *IdP) decide(userCode string, f func(*deviceGrant)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.devices[p.userCode[normUserCode(userCode)]]
	switch {
	case !ok:
		return fmt.Errorf("testidp: unknown user code %q", userCode)
	case !p.now().Before(d.expiry):
		return fmt.Errorf("testidp: user code %q has expired", userCode)
	case d.done || d.denied || d.approved != nil:
		return fmt.Errorf("testidp: user code %q was decided already", userCode)
	}
	f(d)
	return nil
}

// WaitUserCode returns the user code of the oldest device authorization
// request that it has not returned yet, waiting for one until ctx ends:
// the test plays the person who reads the code off the client's screen.
func (p *IdP) WaitUserCode(ctx context.Context) (string, error) {
	for {
		p.mu.Lock()
		var (
			best *deviceGrant
			at   time.Time
		)
		for _, d := range p.devices {
			if !d.seen && (best == nil || d.expiry.Before(at)) {
				best, at = d, d.expiry
			}
		}
		if best != nil {
			best.seen = true
			p.mu.Unlock()
			return best.userCode, nil
		}
		wake := p.waitChan()
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return "", fmt.Errorf("testidp: waiting for a device authorization: %w", ctx.Err())
		}
	}
}

// waitChan is closed at the next notify; p.mu must be held.
func (p *IdP) waitChan() <-chan struct{} {
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}

// notify wakes the waiters of waitChan.
func (p *IdP) notify() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}
