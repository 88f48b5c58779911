package imapsync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/emersion/go-imap/v2"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// oauthLogin signs in with a bearer token (RFC 7628 section 3.2 over
// IMAP AUTHENTICATE, RFC 9051 section 6.2.2, with the initial response
// on the command line when the server has SASL-IR, RFC 4959): OAUTHBEARER
// when offered, else XOAUTH2. A refused token gets one more try with the
// token cfg.OAuth2.Refused gives (lbsync.OAuthRetry). The refusal is of
// kind Auth and carries the server's JSON challenge; NO [UNAVAILABLE]
// and the like stay Temporary (kindOf).
func (c *conn) oauthLogin(ctx context.Context, cfg Config, token string) error {
	caps := c.c.Caps()
	if caps == nil {
		var err error
		if caps, err = c.c.Capability().Wait(); err != nil {
			return err
		}
	}
	mech := lbsync.ChooseOAuthMech(func(m string) bool { return caps.Has(imap.Cap("AUTH=" + m)) })
	if mech == "" {
		return &lbsync.Error{Op: "imap authenticate " + cfg.Addr, Kind: lbsync.Permanent,
			Err: errors.New("the server offers no OAuth2 login (AUTH=OAUTHBEARER or AUTH=XOAUTH2)")}
	}
	host, portStr, _ := net.SplitHostPort(cfg.Addr)
	port, _ := strconv.Atoi(portStr)
	return lbsync.OAuthRetry(ctx, cfg.OAuth2, token, func(tok string) error {
		sc, err := lbsync.NewOAuthClient(mech, lbsync.OAuthLogin{User: cfg.Login, Token: tok, Host: host, Port: port})
		if err != nil {
			return &lbsync.Error{Op: "imap authenticate " + cfg.Addr, Kind: lbsync.Permanent, Err: err}
		}
		err = c.c.Authenticate(sc)
		if err == nil || !isNo(err) || isTemporary(err) {
			return err
		}
		return &lbsync.Error{Op: "imap authenticate", Kind: lbsync.Auth,
			Err: &lbsync.TokenRefusedError{Mech: mech, Challenge: sc.Challenge(), Err: fmt.Errorf("%s as %s: %w", cfg.Addr, cfg.Login, err)}}
	})
}
