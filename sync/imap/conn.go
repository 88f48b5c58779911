package imapsync

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// conn is one logged-in IMAP connection. Like aerc's worker, exactly one
// goroutine (the one running Sync or Watch) issues its commands; the
// client's reader goroutine only signals news through the buffered(1)
// channels news and status.
type conn struct {
	c     *imapclient.Client
	g     *guard // the bounds and deadlines under the client
	caps  imap.CapSet
	news  chan struct{}
	stop  func() bool // stops the context watcher
	cond  bool        // CONDSTORE offered
	uidpl bool        // UIDPLUS offered
	// status is signalled by a STATUS response no command asked for (a
	// NOTIFY notification, RFC 5465); notified holds them by server
	// mailbox name until takeNotified.
	status   chan struct{}
	mu       sync.Mutex
	notified map[string]*imap.StatusData
	// selected is the server name of the selected mailbox and sel what
	// SELECT said about it.
	selected string
	sel      *imap.SelectData
	// views counts the untagged EXISTS and EXPUNGE responses no command
	// asked for: a change of the selected mailbox's view (incr.go).
	views atomic.Uint64
}

// dial connects, reads the greeting and logs in (RFC 9051 section 6.2.3).
// Each step of the set-up (TCP, TLS handshake, greeting) has the connect
// timeout, and every command the command timeout (see guard). Cancelling
// ctx closes the connection, which fails any command running.
func dial(ctx context.Context, cfg Config) (*conn, error) {
	password := func() (string, error) { return cfg.Password, nil }
	lookup := cfg.PasswordFunc
	if cfg.OAuth2 != nil {
		lookup = cfg.OAuth2.Token // the first token, while connecting
	}
	if lookup != nil {
		type secret struct {
			pw  string
			err error
		}
		got := make(chan secret, 1)
		// A failed dial stops the lookup (a password command is killed).
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			pw, err := lookup(pctx)
			got <- secret{pw, err}
		}()
		password = func() (string, error) {
			s := <-got
			return s.pw, s.err
		}
	}
	security := strings.ToLower(cfg.Security)
	switch security {
	case "", SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return nil, &lbsync.Error{Op: "imap connect", Kind: lbsync.Permanent, Err: fmt.Errorf("unknown security %q", cfg.Security)}
	}
	connectTO, commandTO := cfg.timeouts()
	op := "imap connect " + cfg.Addr
	raw, err := dialTCP(ctx, cfg, connectTO)
	if err != nil {
		return nil, lbsync.E(op, kindOf(err), err)
	}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	tcfg := &tls.Config{}
	if cfg.TLS != nil {
		tcfg = cfg.TLS.Clone()
	}
	if tcfg.ServerName == "" && !tcfg.InsecureSkipVerify {
		tcfg.ServerName = host
	}
	cn := &conn{news: make(chan struct{}, 1), status: make(chan struct{}, 1)}
	opts := &imapclient.Options{TLSConfig: tcfg, UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) {
			cn.views.Add(1)
			cn.signal()
		},
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				cn.views.Add(1)
				cn.signal()
			}
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			cn.signal()
			for msg.Next() != nil {
			}
		},
		Status: cn.notify,
	}}
	// Closing the raw connection is the one way to interrupt the client.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	fail := func(op string, err error) (*conn, error) {
		stop()
		raw.Close()
		if gerr := cn.g.failure(); gerr != nil {
			err = gerr
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		k := kindOf(err)
		if k == lbsync.Other && cn.c != nil {
			k = lbsync.Temporary // the client closed the connection
		}
		return nil, lbsync.E(op, k, err)
	}
	var plain net.Conn = raw
	var prefix string
	switch security {
	case "", SecurityTLS:
		if tcfg.NextProtos == nil {
			tcfg.NextProtos = []string{"imap"}
		}
		tc, err := handshake(ctx, raw, tcfg, connectTO)
		if err != nil {
			return fail(op, err)
		}
		plain = tc
	case SecurityStartTLS:
		tc, err := startTLS(ctx, raw, tcfg, connectTO)
		if err != nil {
			return fail(op, err)
		}
		plain, prefix = tc, tlsGreeting
	}
	cn.g = newGuard(plain, cfg.limits(), connectTO, commandTO)
	cn.g.prefix = []byte(prefix)
	cn.c = imapclient.New(cn.g, opts)
	cn.stop = stop
	if err := cn.c.WaitGreeting(); err != nil {
		cn.close()
		return fail(op, err)
	}
	pw, err := password()
	if err != nil {
		cn.close()
		return nil, err
	}
	if cfg.OAuth2 != nil {
		if err := cn.oauthLogin(ctx, cfg, pw); err != nil {
			cn.close()
			if lbsync.KindOf(err) == lbsync.Auth {
				return nil, err
			}
			return fail("imap authenticate "+cfg.Addr, err)
		}
	} else if err := cn.c.Login(cfg.Login, pw).Wait(); err != nil {
		cn.close()
		if isNo(err) && !isTemporary(err) {
			return nil, &lbsync.Error{Op: "imap login", Kind: lbsync.Auth, Err: fmt.Errorf("%s as %s: refused: %w", cfg.Addr, cfg.Login, err)}
		}
		return fail("imap login "+cfg.Addr, err)
	}
	// The capabilities came with the login's OK, or are asked for now,
	// under the guard's deadline (Client.Caps would wait 30 s of its own).
	if cn.caps = cn.c.Caps(); cn.caps == nil {
		caps, err := cn.c.Capability().Wait()
		if err != nil || caps == nil {
			cn.close()
			if err == nil {
				err = fmt.Errorf("no capabilities: %w", net.ErrClosed)
			}
			return fail("imap capability "+cfg.Addr, err)
		}
		cn.caps = caps
	}
	cn.cond = cn.caps.Has(imap.CapCondStore)
	cn.uidpl = cn.caps.Has(imap.CapUIDPlus)
	return cn, nil
}

// dialTCP opens the TCP connection within the connect timeout.
func dialTCP(ctx context.Context, cfg Config, timeout time.Duration) (net.Conn, error) {
	d := cfg.Dial
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	dctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	raw, err := d(dctx, "tcp", cfg.Addr)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case dctx.Err() != nil:
			return nil, lbsync.Timeout("no TCP connection within", timeout)
		}
		return nil, err
	}
	return raw, nil
}

// TestLogin connects as Sync would (TLS, STARTTLS or none), logs in and
// logs out, changing nothing: account setup uses it to check a password
// before saving anything. A refused login is of kind lbsync.Auth.
func TestLogin(ctx context.Context, cfg Config) error {
	cn, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	cn.close()
	return nil
}

// notify keeps a STATUS notification (it runs on the client's reader
// goroutine: it must not block).
func (c *conn) notify(d *imap.StatusData) {
	c.mu.Lock()
	if c.notified == nil {
		c.notified = map[string]*imap.StatusData{}
	}
	c.notified[d.Mailbox] = d
	c.mu.Unlock()
	select {
	case c.status <- struct{}{}:
	default:
	}
}

// takeNotified returns the notifications kept since the last call.
func (c *conn) takeNotified() map[string]*imap.StatusData {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.notified
	c.notified = nil
	return n
}

// signal notes unilateral data (new mail, expunges, flag changes).
func (c *conn) signal() {
	select {
	case c.news <- struct{}{}:
	default:
	}
}

// dead reports whether the connection is gone.
func (c *conn) dead() bool {
	if c == nil || c.c == nil {
		return false
	}
	select {
	case <-c.c.Closed():
		return true
	default:
		return false
	}
}

// close logs out politely when the connection is alive, then closes it.
// It does not wait for the server's answer to LOGOUT: nothing is left to
// learn from it, and a short sync would spend a round trip on it.
func (c *conn) close() {
	if c == nil || c.c == nil {
		return
	}
	if !c.dead() {
		c.c.Logout()
	}
	c.c.Close()
	if c.stop != nil {
		c.stop()
	}
}

// remoteBox is one server mailbox from LIST.
type remoteBox struct {
	Name       string // the server's name
	Local      string // the store's name
	SpecialUse string
	Subscribed bool
	NoSelect   bool
}

// list returns the server's mailboxes with their roles (RFC 6154) and
// subscriptions (RFC 5258 RETURN (SUBSCRIBED)). Without LIST-EXTENDED
// every mailbox counts as subscribed.
func (c *conn) list() ([]remoteBox, error) {
	var opts *imap.ListOptions
	ext := c.caps.Has(imap.CapListExtended)
	if ext {
		opts = &imap.ListOptions{ReturnSubscribed: true, ReturnSpecialUse: c.caps.Has(imap.CapSpecialUse)}
	}
	data, err := c.c.List("", "*", opts).Collect()
	if err != nil {
		return nil, c.wrap("list", "", err)
	}
	var out []remoteBox
	for _, d := range data {
		rb := remoteBox{Name: d.Mailbox, Subscribed: !ext}
		local := d.Mailbox
		if d.Delim != 0 && d.Delim != '/' {
			if strings.ContainsRune(local, '/') {
				continue // cannot be mirrored under "/" without ambiguity
			}
			local = strings.ReplaceAll(local, string(d.Delim), "/")
		}
		cn, err := store.CanonicalName(local)
		if err != nil {
			continue
		}
		rb.Local = cn
		for _, a := range d.Attrs {
			switch strings.ToLower(string(a)) {
			case `\noselect`, `\nonexistent`:
				rb.NoSelect = true
			case `\subscribed`:
				rb.Subscribed = true
			case `\sent`, `\drafts`, `\trash`, `\junk`, `\archive`, `\all`:
				rb.SpecialUse = specialUse(string(a))
			}
		}
		if rb.Local == store.Inbox {
			rb.Subscribed = true
		}
		out = append(out, rb)
	}
	return out, nil
}

// specialUse returns the store's spelling of a SPECIAL-USE attribute.
func specialUse(attr string) string {
	for _, s := range []string{store.SpecialSent, store.SpecialDrafts, store.SpecialTrash, store.SpecialJunk, store.SpecialArchive, store.SpecialAll} {
		if strings.EqualFold(s, attr) {
			return s
		}
	}
	return ""
}

// selectBox selects a mailbox, asking for CONDSTORE (RFC 7162 section
// 3.1.8) when the server has it.
func (c *conn) selectBox(name string) (*imap.SelectData, error) {
	return c.selectWait(name, c.selectStart(name))
}

// selectStart sends SELECT without waiting for the answer, so the caller
// can read the store meanwhile; selectWait takes the answer.
func (c *conn) selectStart(name string) *imapclient.SelectCommand {
	c.selected, c.sel = "", nil
	return c.c.Select(name, &imap.SelectOptions{CondStore: c.cond})
}

// selectWait waits for the answer to a SELECT from selectStart.
func (c *conn) selectWait(name string, cmd *imapclient.SelectCommand) (*imap.SelectData, error) {
	data, err := cmd.Wait()
	if err != nil {
		return nil, c.wrap("select", name, err)
	}
	c.selected, c.sel = name, data
	return data, nil
}

// readHeader reads one FETCH response of fetchMessages; its literal
// goes to memory or a temporary file (readLiteral). A literal cut short
// closes the client before anything reads on: go-imap hands the
// connection back to its reader goroutine on such an error, and draining
// the literal afterwards would race with it.
func (c *conn) readHeader(msg *imapclient.FetchMessageData, budget *int64) (header, error) {
	var h header
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch it := item.(type) {
		case imapclient.FetchItemDataBodySection:
			if it.Literal == nil || h.data != nil {
				continue
			}
			l, err := readLiteral(it.Literal, it.Literal.Size(), budget)
			if err != nil {
				c.c.Close()
				return h, err
			}
			h.data = l
		case imapclient.FetchItemDataUID:
			h.uid = uint32(it.UID)
		case imapclient.FetchItemDataFlags:
			h.flags = cleanFlags(it.Flags)
		case imapclient.FetchItemDataInternalDate:
			h.date = it.Time
		case imapclient.FetchItemDataRFC822Size:
			h.size = it.Size
		}
	}
	return h, nil
}

// collectMem bounds the octets collect keeps in memory over all the
// messages of one command; literals past it are read and dropped (their
// Bytes are nil), so that a server cannot make a collect hold more.
const collectMem = 64 << 20

// collect reads every response of a FETCH as FetchMessageData.Collect
// does, for the items this package asks for (see readHeader for literals
// cut short).
func (c *conn) collect(cmd *imapclient.FetchCommand) ([]*imapclient.FetchMessageBuffer, error) {
	var out []*imapclient.FetchMessageBuffer
	left := int64(collectMem)
	fail := func(err error) ([]*imapclient.FetchMessageBuffer, error) {
		c.c.Close()
		cmd.Close()
		return nil, err
	}
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf := &imapclient.FetchMessageBuffer{SeqNum: msg.SeqNum}
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataBodySection:
				var b []byte
				if it.Literal != nil {
					size := it.Literal.Size()
					if size > left {
						if n, err := io.Copy(io.Discard, it.Literal); err != nil || n < size {
							return fail(cmp.Or(err, io.ErrUnexpectedEOF))
						}
						continue
					}
					left -= size
					b = make([]byte, size)
					if _, err := io.ReadFull(it.Literal, b); err != nil {
						return fail(err)
					}
				}
				buf.BodySection = append(buf.BodySection, imapclient.FetchBodySectionBuffer{Section: it.Section, Bytes: b})
			case imapclient.FetchItemDataUID:
				buf.UID = it.UID
			case imapclient.FetchItemDataFlags:
				buf.Flags = it.Flags
			case imapclient.FetchItemDataInternalDate:
				buf.InternalDate = it.Time
			case imapclient.FetchItemDataRFC822Size:
				buf.RFC822Size = it.Size
			case imapclient.FetchItemDataModSeq:
				buf.ModSeq = it.ModSeq
			}
		}
		out = append(out, buf)
	}
	return out, cmd.Close()
}
