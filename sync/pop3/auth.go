package pop3

import (
	"context"
	"encoding/base64"
	"fmt"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// maxAuthLine is the longest AUTH command with an initial response (RFC
// 5034 section 4: 255 octets, the CRLF included).
const maxAuthLine = 255

// login authenticates (RFC 1939 section 7, RFC 5034) and moves the
// session to the TRANSACTION state. The password never goes over a
// connection without TLS unless Security is SecurityNone. AUTH PLAIN is
// used when the server lists it (CAPA "SASL PLAIN"), USER/PASS otherwise,
// including on servers without CAPA. A refused login is not retried with
// the other method: that would only count as a second failure.
func (c *Client) login(ctx context.Context) error {
	if !c.tls && c.cfg.Security != SecurityNone {
		return withKind(lbsync.Permanent, fmt.Errorf("login: %w", ErrInsecure))
	}
	var err error
	if c.cfg.OAuth2 != nil {
		err = c.authOAuth(ctx)
	} else if c.caps.SASL("PLAIN") {
		err = c.authPlain(ctx)
	} else {
		err = c.userPass(ctx)
	}
	if err != nil {
		return err
	}
	// The capabilities may differ in the TRANSACTION state (RFC 2449
	// section 5); a server without CAPA stays without.
	if c.caps != nil {
		return c.capa(ctx)
	}
	return nil
}

// authPlain is AUTH PLAIN (RFC 5034 section 4, RFC 4616 section 2) with
// the initial response on the command line when it fits.
func (c *Client) authPlain(ctx context.Context) error {
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + c.cfg.Login + "\x00" + c.cfg.Password))
	if err := c.ready(ctx); err != nil {
		return err
	}
	if len("AUTH PLAIN ")+len(resp)+2 <= maxAuthLine {
		c.send("AUTH", "PLAIN", resp)
	} else {
		c.send("AUTH", "PLAIN")
		if err := c.flush(); err != nil {
			return err
		}
		r, err := c.readReply("AUTH")
		if err != nil {
			return err
		}
		if !r.cont {
			return c.fail(fmt.Errorf("AUTH: +OK without a response: %w", lbsync.ErrProtocol))
		}
		c.send(resp)
	}
	if err := c.flush(); err != nil {
		return err
	}
	r, err := c.readReply("AUTH")
	if err != nil {
		return err
	}
	if r.cont {
		// PLAIN has one round; a further challenge is a broken server.
		// Cancel the exchange (RFC 5034 section 4) and give up.
		c.send("*")
		c.flush()
		c.readReply("AUTH")
		return c.fail(fmt.Errorf("AUTH PLAIN: unexpected challenge: %w", lbsync.ErrProtocol))
	}
	return nil
}

// userPass is USER and PASS (RFC 1939 section 7).
func (c *Client) userPass(ctx context.Context) error {
	if _, err := c.cmd(ctx, "USER", c.cfg.Login); err != nil {
		return err
	}
	_, err := c.cmd(ctx, "PASS", c.cfg.Password)
	return err
}
