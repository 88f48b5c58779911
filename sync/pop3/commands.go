package pop3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// ready prepares the connection for a command under ctx: it fails fast on
// a broken connection and discards what is left of an unread multi-line
// response.
func (c *Client) ready(ctx context.Context) error {
	if c.broken != nil {
		return c.broken
	}
	c.raw.begin(ctx)
	if c.open != nil {
		err := c.open.Close()
		c.open = nil
		if err != nil {
			return err
		}
	}
	return nil
}

// send buffers one command line.
func (c *Client) send(words ...string) {
	c.bw.WriteString(strings.Join(words, " "))
	c.bw.WriteString("\r\n")
}

func (c *Client) flush() error {
	if err := c.bw.Flush(); err != nil {
		return c.fail(err)
	}
	return nil
}

// readReply reads the status line answering verb; -ERR is a
// *ServerError, a line that is no status line breaks the connection. arg,
// when given, names the message in errors (never a credential).
func (c *Client) readReply(verb string, arg ...string) (reply, error) {
	what := strings.Join(append([]string{verb}, arg...), " ")
	line, err := readLine(c.br, maxStatusLine)
	if err != nil {
		return reply{}, fmt.Errorf("%s: %w", what, c.fail(err))
	}
	r, err := parseReply(string(line))
	if err == nil && r.cont && verb != "AUTH" {
		err = fmt.Errorf("continuation outside AUTH: %w", lbsync.ErrProtocol)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", what, c.fail(err))
	}
	if !r.ok && !r.cont {
		return r, &ServerError{Cmd: verb, Code: r.code, Text: r.text}
	}
	return r, nil
}

// cmd sends one command and reads its status line.
func (c *Client) cmd(ctx context.Context, verb string, args ...string) (reply, error) {
	if err := c.ready(ctx); err != nil {
		return reply{}, err
	}
	c.send(append([]string{verb}, args...)...)
	if err := c.flush(); err != nil {
		return reply{}, fmt.Errorf("%s: %w", verb, err)
	}
	if isLoginCmd(verb) {
		args = nil
	}
	return c.readReply(verb, args...)
}

// body returns the multi-line response that follows a +OK.
func (c *Client) body() *dotReader {
	d := newDotReader(c.br, c.fail)
	c.open = d
	return d
}

// message returns the multi-line response that holds a message (RETR,
// TOP), bounded by Config.MaxMessage.
func (c *Client) message() *dotReader {
	d := c.body()
	if c.cfg.MaxMessage > 0 {
		d.limit = &wireLimit{max: c.cfg.MaxMessage, what: "message", hint: " (max_message_size)"}
	}
	return d
}

// Bounds of a listing (CAPA, LIST, UIDL) held in memory: its octets and
// its lines, each line costing more than its octets. A maildrop of a
// million messages lists in some 30 MB.
const (
	maxListing      = 64 << 20
	maxListingLines = 1 << 20
)

// listing sends a command with a multi-line answer of short lines (CAPA,
// LIST, UIDL) and returns the lines.
func (c *Client) listing(ctx context.Context, verb string, args ...string) ([]string, error) {
	if _, err := c.cmd(ctx, verb, args...); err != nil {
		return nil, err
	}
	d := c.body()
	d.limit = &wireLimit{max: maxListing, what: "listing"}
	br := bufio.NewReaderSize(d, 4096)
	var lines []string
	for {
		l, err := readLine(br, maxStatusLine)
		if err == io.EOF {
			c.open = nil
			return lines, nil
		}
		if err == nil && len(lines) == maxListingLines {
			err = fmt.Errorf("listing of more than %d lines: hostile or broken server: %w", maxListingLines, lbsync.ErrProtocol)
		}
		if err != nil {
			if errors.Is(err, lbsync.ErrProtocol) {
				err = c.fail(err)
			}
			return nil, fmt.Errorf("%s: %w", verb, err)
		}
		lines = append(lines, string(l))
	}
}

// Stat returns the number of messages and their total size in octets
// (RFC 1939 section 5, STAT).
func (c *Client) Stat(ctx context.Context) (count int, size int64, err error) {
	r, err := c.cmd(ctx, "STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(r.text)
	if len(f) < 2 {
		return 0, 0, c.fail(fmt.Errorf("STAT: reply %q: %w", clip(r.text), lbsync.ErrProtocol))
	}
	count, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || count < 0 || size < 0 {
		return 0, 0, c.fail(fmt.Errorf("STAT: reply %q: %w", clip(r.text), lbsync.ErrProtocol))
	}
	return count, size, nil
}

// MessageInfo is one line of LIST.
type MessageInfo struct {
	// Num is the message number in this session (RFC 1939 section 4).
	Num int
	// Size is the size in octets as the server counts it.
	Size int64
}

// List returns the number and size of every message not marked deleted
// (RFC 1939 section 5, LIST).
func (c *Client) List(ctx context.Context) ([]MessageInfo, error) {
	lines, err := c.listing(ctx, "LIST")
	if err != nil {
		return nil, err
	}
	out := make([]MessageInfo, 0, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		var m MessageInfo
		var err1, err2 error
		if len(f) >= 2 {
			m.Num, err1 = strconv.Atoi(f[0])
			m.Size, err2 = strconv.ParseInt(f[1], 10, 64)
		}
		if len(f) < 2 || err1 != nil || err2 != nil || m.Num < 1 || m.Size < 0 {
			return nil, c.fail(fmt.Errorf("LIST: line %q: %w", clip(l), lbsync.ErrProtocol))
		}
		out = append(out, m)
	}
	return out, nil
}

// UID is one line of UIDL.
type UID struct {
	Num int
	// ID is the message's unique id: the server keeps it across
	// sessions (RFC 1939 section 7).
	ID string
}

// UIDL returns the unique id of every message not marked deleted (RFC
// 1939 section 7). A server without UIDL gives an error that is
// ErrNoUIDL.
func (c *Client) UIDL(ctx context.Context) ([]UID, error) {
	lines, err := c.listing(ctx, "UIDL")
	var se *ServerError
	if errors.As(err, &se) {
		return nil, withKind(lbsync.Permanent, fmt.Errorf("%w (%v)", ErrNoUIDL, err))
	}
	if err != nil {
		return nil, err
	}
	out := make([]UID, 0, len(lines))
	for _, l := range lines {
		num, id, _ := strings.Cut(strings.TrimLeft(l, " "), " ")
		id = strings.Trim(id, " ")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || !validUID(id) {
			return nil, c.fail(fmt.Errorf("UIDL: line %q: %w", clip(l), lbsync.ErrProtocol))
		}
		out = append(out, UID{Num: n, ID: id})
	}
	return out, nil
}

// validUID checks a unique id: 1 to 70 octets in 0x21..0x7E (RFC 1939
// section 7), up to 512 accepted from lenient servers.
func validUID(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, b := range []byte(s) {
		if b < 0x21 || b > 0x7e {
			return false
		}
	}
	return true
}

// Retr starts retrieving message n (RFC 1939 section 5, RETR). The body
// streams from the connection, dot-unstuffed and with CRLF line ends; it
// ends with io.EOF after the terminating line, or fails with
// io.ErrUnexpectedEOF (wrapped) if the connection drops before. Read it to
// the end or Close it before the next command; the next command
// discards what is left.
func (c *Client) Retr(ctx context.Context, n int) (io.ReadCloser, error) {
	if _, err := c.cmd(ctx, "RETR", strconv.Itoa(n)); err != nil {
		return nil, err
	}
	return c.message(), nil
}

// Top retrieves the header of message n and the first lines lines of its
// body (RFC 1939 section 7, TOP), as Retr does.
func (c *Client) Top(ctx context.Context, n, lines int) (io.ReadCloser, error) {
	if _, err := c.cmd(ctx, "TOP", strconv.Itoa(n), strconv.Itoa(lines)); err != nil {
		return nil, err
	}
	return c.message(), nil
}

// Dele marks message n deleted (RFC 1939 section 5). The server deletes
// it only when the session ends with Quit.
func (c *Client) Dele(ctx context.Context, n int) error {
	_, err := c.cmd(ctx, "DELE", strconv.Itoa(n))
	return err
}

// Rset unmarks every message marked deleted (RFC 1939 section 5).
func (c *Client) Rset(ctx context.Context) error {
	_, err := c.cmd(ctx, "RSET")
	return err
}

// Noop does nothing but keep the session alive (RFC 1939 section 5).
func (c *Client) Noop(ctx context.Context) error {
	_, err := c.cmd(ctx, "NOOP")
	return err
}

// Quit ends the session and makes the server delete the messages marked
// with Dele (the UPDATE state, RFC 1939 section 6). Only a nil error
// means the deletions happened; a -ERR (typically "[SYS/TEMP] some
// deleted messages not removed") or a lost connection leaves them
// unknown. The Client is closed either way.
func (c *Client) Quit(ctx context.Context) error {
	_, err := c.cmd(ctx, "QUIT")
	c.Close()
	return err
}
