package pop3d

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Session states (RFC 1939 section 3).
const (
	stateAuthorization = iota
	stateTransaction
	stateUpdate
)

// Limits of a session.
const (
	// maxAuthFailures failed logins close the session.
	maxAuthFailures = 3
	// maxBadCommands unknown or misplaced commands in a row close the
	// session, as Dovecot does.
	maxBadCommands = 20
	// drainTimeout bounds how long a closing session reads (and drops)
	// what the client still sends, so that closing does not reset the
	// connection before the client has read the last reply.
	drainTimeout = 500 * time.Millisecond
)

// session is one POP3 connection. Everything but the fields under mu is
// owned by the session's goroutine.
type session struct {
	srv    *Server
	id     string
	log    *slog.Logger
	remote net.Addr
	ctx    context.Context

	mu   sync.Mutex // guards conn (replaced by STLS) and idle
	conn net.Conn
	idle bool // waiting for a command

	br  *bufio.Reader
	bw  *bufio.Writer
	tls bool
	lo  ListenerOptions // of the listener the connection came from

	state        int
	pendingUser  string // from USER, until PASS
	user         string // canonical address, once logged in
	drop         *maildrop
	authFailures int
	badCommands  int
	lastOK       bool // outcome of the last reply, for the log
}

func newSession(s *Server, c net.Conn, id string) *session {
	_, isTLS := c.(*tls.Conn)
	return &session{
		srv: s, id: id, remote: c.RemoteAddr(), ctx: s.ctx, conn: c, tls: isTLS, lo: s.tags.Of(c),
		log: s.log.With("conn", id, "remote", c.RemoteAddr().String()),
		br:  bufio.NewReader(c),
		bw:  bufio.NewWriterSize(deadlineWriter{c, s.opts.IdleTimeout}, 32<<10),
	}
}

// deadlineWriter gives every write to the connection IdleTimeout to
// complete, so a client that stops reading a long RETR is dropped.
type deadlineWriter struct {
	c net.Conn
	d time.Duration
}

func (w deadlineWriter) Write(p []byte) (int, error) {
	if err := w.c.SetWriteDeadline(time.Now().Add(w.d)); err != nil {
		return 0, err
	}
	return w.c.Write(p)
}

// serve runs the session until QUIT, a fatal error, a timeout or the
// server's end.
func (ss *session) serve() {
	defer ss.finish()
	ss.log.Info("pop3 connect", "tls", ss.tls)
	// RFC 1939 section 4: the greeting.
	ss.ok("%s POP3 server ready", ss.srv.opts.Hostname)
	for {
		if ss.br.Buffered() == 0 {
			if err := ss.bw.Flush(); err != nil {
				ss.log.Debug("pop3 write failed", "err", err)
				return
			}
		}
		if !ss.setIdle(true) {
			ss.bye("[SYS/TEMP] Server shutting down")
			return
		}
		line, err := readLine(ss.br, ss.lineLimit())
		if !ss.setIdle(false) {
			ss.bye("[SYS/TEMP] Server shutting down")
			return
		}
		if err != nil {
			ss.readFailed(err)
			return
		}
		if ss.execute(line) {
			return
		}
	}
}

// setIdle records whether the session waits for a command and, when it
// starts to, arms the idle timeout: LoginIdleTimeout before login,
// IdleTimeout after. It reports false when the server is closing: the
// session must end.
func (ss *session) setIdle(idle bool) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	closing := ss.srv.isClosing()
	ss.idle = idle && !closing
	if ss.idle {
		ss.conn.SetReadDeadline(time.Now().Add(ss.idleTimeout()))
	}
	return !closing
}

// idleTimeout is how long the client may now send nothing.
func (ss *session) idleTimeout() time.Duration {
	if ss.state == stateAuthorization {
		return ss.srv.opts.LoginIdleTimeout
	}
	return ss.srv.opts.IdleTimeout
}

// wakeIfIdle makes the read of an idle session return at once, so it sees
// that the server is closing (Shutdown).
func (ss *session) wakeIfIdle() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.idle {
		ss.conn.SetReadDeadline(time.Now())
	}
}

// closeConn closes the connection at once (Close).
func (ss *session) closeConn() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.conn.Close()
}

func (ss *session) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, errLineTooLong):
		ss.log.Info("pop3 input line too long")
		ss.bye("Input line too long.")
	case errors.As(err, &ne) && ne.Timeout():
		ss.log.Info("pop3 idle timeout")
		ss.bye("Disconnected for inactivity.")
	case errors.Is(err, io.EOF):
	default:
		ss.log.Debug("pop3 read failed", "err", err)
	}
}

// bye sends a last -ERR; the connection is closed after it.
func (ss *session) bye(format string, a ...any) {
	ss.fail(format, a...)
	ss.bw.Flush()
}

// finish releases the mailbox and closes the connection gracefully.
func (ss *session) finish() {
	if ss.drop != nil && ss.state != stateUpdate {
		marked := 0
		for _, m := range ss.drop.msgs {
			if m.deleted {
				marked++
			}
		}
		if marked > 0 {
			ss.log.Info("pop3 session ended without QUIT; nothing deleted", "marked", marked)
		}
	}
	if ss.user != "" {
		ss.srv.unlockMailbox(ss.user, ss)
	}
	ss.bw.Flush()
	ss.mu.Lock()
	c := ss.conn
	ss.mu.Unlock()
	// Half-close and read what is left, so the kernel does not answer
	// unread input with a reset that could destroy the last reply.
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.SetReadDeadline(time.Now().Add(drainTimeout))
		io.Copy(io.Discard, io.LimitReader(c, 1<<16))
	}
	c.Close()
	ss.srv.endSession(ss)
	ss.log.Info("pop3 disconnect")
}

// execute runs one command line and reports whether the session ends.
func (ss *session) execute(line []byte) bool {
	cmd, err := parseCommand(line)
	if err != nil {
		ss.badCommand("Unknown command")
		ss.log.Debug("pop3 command", "cmd", sanitize(string(line[:min(len(line), 4)])), "ok", false)
	} else {
		quit := ss.dispatch(cmd)
		ss.log.Debug("pop3 command", "cmd", cmd.Name, "ok", ss.lastOK)
		if quit {
			return true
		}
	}
	if ss.badCommands >= maxBadCommands {
		ss.bye("Too many bad commands.")
		return true
	}
	return false
}

// dispatch runs a command allowed in the current state and reports
// whether the session ends.
func (ss *session) dispatch(c command) bool {
	if ss.state == stateAuthorization {
		switch c.Name {
		case "CAPA":
			ss.cmdCapa()
		case "QUIT": // RFC 1939 section 5
			ss.ok("Bye")
			return true
		case "STLS":
			return ss.cmdStls()
		case "USER":
			ss.cmdUser(c.Arg)
		case "PASS":
			return ss.cmdPass(c.Arg)
		case "AUTH":
			return ss.cmdAuth(c.Arg)
		case "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL":
			ss.badCommand("%s is not allowed before login", c.Name)
		default:
			ss.badCommand("Unknown command: %s", sanitize(c.Name))
		}
		return false
	}
	switch c.Name {
	case "CAPA":
		ss.cmdCapa()
	case "STAT":
		ss.cmdStat()
	case "LIST":
		ss.cmdList(c.Arg)
	case "UIDL":
		ss.cmdUidl(c.Arg)
	case "RETR":
		return ss.cmdRetr(c.Arg)
	case "TOP":
		return ss.cmdTop(c.Arg)
	case "DELE":
		ss.cmdDele(c.Arg)
	case "RSET":
		ss.cmdRset()
	case "NOOP":
		ss.ok("")
	case "QUIT":
		return ss.cmdQuit()
	case "USER", "PASS", "AUTH", "APOP", "STLS":
		ss.badCommand("Already logged in")
	default:
		ss.badCommand("Unknown command: %s", sanitize(c.Name))
	}
	return false
}

// ok sends a positive status line, "+OK" and text if any.
func (ss *session) ok(format string, a ...any) {
	ss.status("+OK", format, a...)
	ss.lastOK, ss.badCommands = true, 0
}

// fail sends a negative status line for a known command.
func (ss *session) fail(format string, a ...any) {
	ss.status("-ERR", format, a...)
	ss.lastOK, ss.badCommands = false, 0
}

// badCommand sends -ERR for an unknown, misplaced or malformed command.
func (ss *session) badCommand(format string, a ...any) {
	ss.status("-ERR", format, a...)
	ss.lastOK = false
	ss.badCommands++
}

// internal logs a store or backend error and sends a temporary failure.
func (ss *session) internal(what string, err error) {
	ss.log.Error("pop3 "+what, "err", err)
	ss.fail("[SYS/TEMP] Internal error")
}

func (ss *session) status(status, format string, a ...any) {
	ss.bw.WriteString(status)
	if format != "" {
		ss.bw.WriteByte(' ')
		fmt.Fprintf(ss.bw, format, a...)
	}
	ss.bw.WriteString("\r\n")
}

// line writes one line of a multi-line reply; s never begins with ".".
func (ss *session) line(s string) {
	ss.bw.WriteString(s)
	ss.bw.WriteString("\r\n")
}

// end ends a multi-line reply (RFC 1939 section 3).
func (ss *session) end() { ss.bw.WriteString(".\r\n") }
