package pop3d

import (
	"context"
	"errors"
	"io"
	"strconv"
)

// msgArg parses a message-number argument; on failure it has sent -ERR.
func (ss *session) msgArg(s string) (*dropMsg, int, bool) {
	n, ok := parseNumber(s)
	if !ok {
		ss.badCommand("Invalid message number")
		return nil, 0, false
	}
	m, why := ss.drop.msg(n)
	if m == nil {
		ss.fail("%s", why)
		return nil, 0, false
	}
	return m, n, true
}

// cmdStat is STAT (RFC 1939 section 5): "+OK count size", messages marked
// deleted left out.
func (ss *session) cmdStat() {
	count, total, err := ss.drop.stat(ss.ctx)
	if err != nil {
		ss.internal("STAT", err)
		return
	}
	ss.ok("%d %d", count, total)
}

// cmdList is LIST [msg] (RFC 1939 section 5): the sizes as sent.
func (ss *session) cmdList(arg string) {
	a := args(arg)
	switch len(a) {
	case 0:
		count, total, err := ss.drop.stat(ss.ctx)
		if err != nil {
			ss.internal("LIST", err)
			return
		}
		ss.ok("%d messages (%d octets)", count, total)
		for i := range ss.drop.msgs {
			m := &ss.drop.msgs[i]
			if m.deleted {
				continue
			}
			size := m.size
			if size < 0 { // went away before it was counted
				size = m.storeSize
			}
			ss.line(strconv.Itoa(i+1) + " " + strconv.FormatInt(size, 10))
		}
		ss.end()
	case 1:
		m, n, ok := ss.msgArg(a[0])
		if !ok {
			return
		}
		size, err := ss.drop.sizeOrFallback(ss.ctx, m)
		if err != nil {
			ss.internal("LIST", err)
			return
		}
		ss.ok("%d %d", n, size)
	default:
		ss.badCommand("Syntax: LIST [msg]")
	}
}

// cmdUidl is UIDL [msg] (RFC 1939 section 7).
func (ss *session) cmdUidl(arg string) {
	a := args(arg)
	switch len(a) {
	case 0:
		ss.ok("Unique-ID listing follows")
		for i := range ss.drop.msgs {
			m := &ss.drop.msgs[i]
			if !m.deleted {
				ss.line(strconv.Itoa(i+1) + " " + ss.drop.uidl(m))
			}
		}
		ss.end()
	case 1:
		m, n, ok := ss.msgArg(a[0])
		if ok {
			ss.ok("%d %s", n, ss.drop.uidl(m))
		}
	default:
		ss.badCommand("Syntax: UIDL [msg]")
	}
}

// cmdDele is DELE msg (RFC 1939 section 5): it only marks; QUIT removes.
func (ss *session) cmdDele(arg string) {
	a := args(arg)
	if len(a) != 1 {
		ss.badCommand("Syntax: DELE msg")
		return
	}
	m, n, ok := ss.msgArg(a[0])
	if !ok {
		return
	}
	m.deleted = true
	ss.ok("Message %d deleted", n)
}

// cmdRset is RSET (RFC 1939 section 5): unmark every message.
func (ss *session) cmdRset() {
	ss.drop.reset()
	ss.ok("Maildrop has %d messages", len(ss.drop.msgs))
}

// cmdQuit is QUIT in the TRANSACTION state (RFC 1939 section 6): enter
// UPDATE, remove the marked messages, close.
func (ss *session) cmdQuit() bool {
	ss.state = stateUpdate
	// Not cancelled by Close: the removal is one short transaction that
	// should not be cut in half.
	removed, marked, err := ss.drop.commit(context.WithoutCancel(ss.ctx))
	// Release the maildrop before the reply, so the client can log in
	// again as soon as it has read it.
	ss.srv.unlockMailbox(ss.user, ss)
	if err != nil {
		ss.log.Error("pop3 update failed", "err", err, "marked", marked, "removed", removed)
		ss.fail("[SYS/TEMP] Some deleted messages not removed")
		return true
	}
	if marked > 0 {
		ss.log.Info("pop3 update", "removed", removed, "marked", marked)
	}
	ss.ok("Logging out, %d messages deleted", removed)
	return true
}

// cmdRetr is RETR msg (RFC 1939 section 5).
func (ss *session) cmdRetr(arg string) bool {
	a := args(arg)
	if len(a) != 1 {
		ss.badCommand("Syntax: RETR msg")
		return false
	}
	m, n, ok := ss.msgArg(a[0])
	if !ok {
		return false
	}
	return ss.send(m, n, -1)
}

// cmdTop is TOP msg n (RFC 1939 section 7): the header, the empty line
// and n lines of the body.
func (ss *session) cmdTop(arg string) bool {
	a := args(arg)
	if len(a) != 2 {
		ss.badCommand("Syntax: TOP msg n")
		return false
	}
	lines, ok := parseNumber(a[1])
	if !ok {
		ss.badCommand("Invalid number of lines")
		return false
	}
	m, n, ok := ss.msgArg(a[0])
	if !ok {
		return false
	}
	return ss.send(m, n, lines)
}

// send streams message m (number n) from its file: all of it when top is
// negative, else the header and top lines of the body. A failure after
// the +OK cannot be reported in the reply, so it ends the session.
func (ss *session) send(m *dropMsg, n, top int) bool {
	f, err := ss.drop.open(ss.ctx, m)
	if errors.Is(err, errGone) {
		ss.fail("Message %d is no longer available", n)
		return false
	}
	if err != nil {
		ss.internal("open message", err)
		return false
	}
	defer f.Close()
	if top < 0 {
		size, err := ss.drop.size(ss.ctx, m, f)
		if err != nil {
			ss.internal("size message", err)
			return false
		}
		ss.ok("%d octets", size)
	} else {
		ss.ok("Top of message %d follows", n)
	}
	w := newWireWriter(ss.bw, true, top)
	_, err = io.Copy(w, f)
	if err != nil && !errors.Is(err, errTopDone) {
		if w.err == nil {
			ss.log.Error("pop3 message read failed mid-reply; closing", "msg", n, "err", err)
		}
		return true
	}
	if err := w.Close(); err != nil {
		return true
	}
	if top < 0 {
		m.retrieved = true
	}
	return false
}
