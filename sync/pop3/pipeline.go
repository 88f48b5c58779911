package pop3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Pipelining (RFC 2449 section 6.6): when the server lists PIPELINING, up
// to Config.Window commands are sent before their replies are read, so a
// download of many small messages is not one round trip per message. The
// commands are short and the window small, so the client's writes never
// wait for the server to drain its replies, which is the deadlock the RFC
// warns about. Without PIPELINING each command waits for the reply to the
// previous one.

// pipeline sends verb for each of nums, at most window ahead of the reply
// being read, and calls each with the index of every reply in order.
type pipeline struct {
	c    *Client
	verb string
	nums []int
	sent int
}

// fill sends commands until window are outstanding beyond reply i. It
// refills only when half the window was answered, to send in batches.
func (p *pipeline) fill(i int) error {
	window := p.c.pipelining()
	if p.sent > i && p.sent-i > window/2 {
		return nil
	}
	for p.sent < len(p.nums) && p.sent < i+window {
		p.c.send(p.verb, strconv.Itoa(p.nums[p.sent]))
		p.sent++
	}
	if err := p.c.flush(); err != nil {
		return fmt.Errorf("%s: %w", p.verb, err)
	}
	return nil
}

// RetrEach retrieves the messages nums in order, pipelined when the
// server allows it, and calls fn with each one's body as Retr returns it.
// The body is valid until fn returns; what fn leaves unread is discarded.
// A message the server refuses ("-ERR") is passed with a nil body and its
// *ServerError, and the others follow. If fn returns an error, RetrEach
// sends no further commands, discards the replies to those already sent,
// and returns fn's error. A connection failure ends it with that error.
func (c *Client) RetrEach(ctx context.Context, nums []int, fn func(n int, body io.Reader, err error) error) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	p := &pipeline{c: c, verb: "RETR", nums: nums}
	var stop error
	for i, n := range nums {
		if i == p.sent && stop != nil {
			return stop
		}
		if stop == nil {
			if err := p.fill(i); err != nil {
				return err
			}
		}
		_, err := c.readReply("RETR", strconv.Itoa(n))
		var se *ServerError
		if err != nil && !errors.As(err, &se) {
			return err
		}
		if stop != nil { // discarding replies to commands already sent
			if err == nil {
				if err := c.body().Close(); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			stop = fn(n, nil, err)
			continue
		}
		d := c.message()
		stop = fn(n, d, nil)
		if err := d.Close(); err != nil {
			return fmt.Errorf("RETR %d: %w", n, err)
		}
		c.open = nil
	}
	return stop
}

// DeleMany marks the messages nums deleted (RFC 1939 section 5, DELE),
// pipelined when the server allows it, and returns those the server
// accepted. A refused one ("-ERR", for example a message already marked)
// is left out and the others follow. As with Dele, nothing is deleted
// before Quit.
func (c *Client) DeleMany(ctx context.Context, nums []int) ([]int, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	p := &pipeline{c: c, verb: "DELE", nums: nums}
	var done []int
	for i, n := range nums {
		if err := p.fill(i); err != nil {
			return done, err
		}
		_, err := c.readReply("DELE", strconv.Itoa(n))
		var se *ServerError
		switch {
		case err == nil:
			done = append(done, n)
		case !errors.As(err, &se):
			return done, err
		}
	}
	return done, nil
}
