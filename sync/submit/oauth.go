package submit

import (
	"context"
	"fmt"
	"slices"
	"strings"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// authOAuth authenticates with a bearer token: AUTH OAUTHBEARER, or
// XOAUTH2 when the server offers only that (RFC 4954 section 4, RFC 7628
// section 3.2; go-smtp sends the initial response on the AUTH line,
// which RFC 4954 allows up to 12,288 octets). A refused token (535) gets
// one more try with the token srv.OAuth2.Refused gives; the *Error of a
// refusal wraps an lbsync.TokenRefusedError with the server's JSON
// challenge. 454 (temporary authentication failure) stays Temporary.
func (s *session) authOAuth(ctx context.Context, srv Server, mechs string) error {
	offered := strings.Fields(strings.ToUpper(mechs))
	mech := lbsync.ChooseOAuthMech(func(m string) bool { return slices.Contains(offered, m) })
	if mech == "" {
		return &Error{Stage: StageAuth, Kind: lbsync.Permanent, Err: ErrNoAuth,
			Message: fmt.Sprintf("the server offers no OAuth2 login (AUTH OAUTHBEARER or XOAUTH2; it offers %s)", mechs)}
	}
	tok, err := srv.OAuth2.Token(ctx)
	if err != nil {
		return err
	}
	_, port, _ := srv.resolve()
	return lbsync.OAuthRetry(ctx, srv.OAuth2, tok, func(tok string) error {
		sc, err := lbsync.NewOAuthClient(mech, lbsync.OAuthLogin{User: srv.Login, Token: tok, Host: srv.Host, Port: port})
		if err != nil {
			return &Error{Stage: StageAuth, Kind: lbsync.Permanent, Message: err.Error(), Err: err}
		}
		err = s.c.Auth(sc)
		if err == nil {
			return nil
		}
		e := s.classify(ctx, StageAuth, err)
		if e.Kind == lbsync.Auth {
			tre := &lbsync.TokenRefusedError{Mech: mech, Challenge: sc.Challenge(), Err: err}
			if tre.Challenge != nil {
				e.Message += " (" + mech + ", " + tre.Challenge.Describe() + ")"
			}
			e.Err = tre
		}
		return e
	})
}
