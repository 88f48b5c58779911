package pop3

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// prefetch starts get on its own goroutine and returns the function that
// waits for its result, or for ctx to end.
func prefetch(ctx context.Context, get func(context.Context) (string, error)) func() (string, error) {
	type result struct {
		tok string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		tok, err := get(ctx)
		ch <- result{tok, err}
	}()
	return func() (string, error) {
		select {
		case r := <-ch:
			return r.tok, r.err
		case <-ctx.Done():
			return "", withKind(lbsync.Cancelled, ctx.Err())
		}
	}
}

// authOAuth signs in with a bearer token: AUTH OAUTHBEARER, or XOAUTH2
// when the server lists only that (RFC 5034 section 4, RFC 7628 section
// 3.2). A refused token gets one more try with the token
// Config.OAuth2.Refused gives (lbsync.OAuthRetry).
func (c *Client) authOAuth(ctx context.Context) error {
	mech := lbsync.ChooseOAuthMech(c.caps.SASL)
	if mech == "" {
		return permanent("AUTH: the server offers no OAuth2 login (CAPA SASL OAUTHBEARER or XOAUTH2)")
	}
	tok, err := c.token()
	if err != nil {
		return err
	}
	return lbsync.OAuthRetry(ctx, c.cfg.OAuth2, tok, func(tok string) error { return c.authSASL(ctx, mech, tok) })
}

// authSASL is one AUTH exchange of mech with token. The message goes on
// the command line when it fits in RFC 5034's 255 octets (a bearer token
// seldom does), else after the server's empty "+". The server's JSON
// error challenge is answered as the mechanism wants (OAuthClient.Next),
// then its -ERR is read: a refusal is of kind Auth and carries the
// challenge; "-ERR [SYS/TEMP]" stays temporary.
func (c *Client) authSASL(ctx context.Context, mech, tok string) error {
	host, portStr, _ := net.SplitHostPort(c.cfg.Addr)
	port, _ := strconv.Atoi(portStr)
	sc, err := lbsync.NewOAuthClient(mech, lbsync.OAuthLogin{User: c.cfg.Login, Token: tok, Host: host, Port: port})
	if err != nil {
		return permanent("AUTH: %w", err)
	}
	_, ir, _ := sc.Start()
	resp := base64.StdEncoding.EncodeToString(ir)
	if err := c.ready(ctx); err != nil {
		return err
	}
	if len("AUTH ")+len(mech)+1+len(resp)+2 <= maxAuthLine {
		c.send("AUTH", mech, resp)
	} else {
		c.send("AUTH", mech)
		if err := c.flush(); err != nil {
			return err
		}
		r, err := c.readReply("AUTH")
		if err != nil {
			return c.refused(mech, sc, err)
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
	if err == nil && r.cont {
		challenge, derr := base64.StdEncoding.DecodeString(r.text)
		if derr != nil {
			challenge = []byte(r.text)
		}
		answer, nerr := sc.Next(challenge)
		if nerr != nil {
			c.send("*") // cancel (RFC 5034 section 4)
		} else {
			c.send(base64.StdEncoding.EncodeToString(answer))
		}
		if err := c.flush(); err != nil {
			return err
		}
		if r, err = c.readReply("AUTH"); err == nil && r.cont {
			return c.fail(fmt.Errorf("AUTH %s: a second challenge: %w", mech, lbsync.ErrProtocol))
		}
	}
	if err != nil {
		return c.refused(mech, sc, err)
	}
	return nil
}

// refused turns a -ERR that refuses the login into a TokenRefusedError
// (kind Auth) with the server's challenge; other errors pass as they are.
func (c *Client) refused(mech string, sc *lbsync.OAuthClient, err error) error {
	var se *ServerError
	if !errors.As(err, &se) || se.Kind() != lbsync.Auth {
		return err
	}
	return withKind(lbsync.Auth, &lbsync.TokenRefusedError{Mech: mech, Challenge: sc.Challenge(), Err: err})
}
