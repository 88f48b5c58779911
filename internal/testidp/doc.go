// Package testidp is a local OAuth2 / OpenID Connect identity provider for
// tests: an httptest server with TLS on 127.0.0.1 that the mail client's
// sign-in (device grant, browser flow, refresh) and the mail server's token
// validation (JWKS or introspection) are tested against, without the
// internet.
//
// Start one with New(t, Options{}) (Start and Close outside tests). Its
// issuer is https://127.0.0.1:port; HTTPClient, CertPool and CertPEM trust
// its certificate. Endpoints (URL methods of the same names):
//
//	GET  /.well-known/openid-configuration  discovery (OIDC Discovery 1.0 section 3)
//	GET  /jwks                    JWKS (RFC 7517): one RS256 and one ES256 key, more after RotateKeys
//	GET  /authorize               code flow (RFC 6749 4.1) with PKCE S256 required (RFC 7636)
//	POST /token                   authorization_code, refresh_token, device_code grants
//	POST /device_authorization    device grant (RFC 8628 section 3.1)
//	GET  /device                  the verification page (tests use Approve)
//	POST /revoke                  revocation (RFC 7009)
//	POST /introspect              introspection (RFC 7662), confidential clients only
//	GET  /userinfo                OIDC Core section 5.3
//
// Clients: by default DefaultClientID ("letterbox", public: no secret,
// PKCE) and DefaultServerClientID / DefaultServerClientSecret
// ("mailserver", confidential: may introspect). Client authentication is
// HTTP Basic or client_id/client_secret in the form. A public client may
// redirect to any loopback http URI (127.0.0.1 or [::1], any port; RFC
// 8252 section 7.3); "localhost" is refused.
//
// Tokens. Access tokens are JWTs (RFC 9068, typ at+jwt) signed with the
// current key of the current algorithm (Options.Algorithm, SetAlgorithm),
// with iss, aud (Options.Audience, DefaultAudience "letterbox-mail", or
// the client's), exp, iat, nbf, sub, email, scope, client_id and jti.
// They live Options.AccessTTL (keep it short, 2 s, to exercise refresh).
// The openid scope adds an ID token (aud = client id, nonce). Refresh
// tokens are opaque and rotate: each refresh returns a new one and the old
// one stops working; presenting a used one again revokes its whole family
// (every token of that grant) and counts in Counts.ReuseDetected.
// Revoking a refresh token revokes its family; revoking an access token
// revokes that token. Introspection says active only for a known, unexpired,
// unrevoked token of a live family.
//
// Device grant: POST /device_authorization returns device_code, user_code
// (XXXX-XXXX), verification_uri(_complete), expires_in and interval
// (Options.DeviceInterval, whole seconds, at least 1). Polls answer
// authorization_pending until the test calls Approve(userCode) (as the
// signed-in user, see SignIn), ApproveAs(userCode, user) or Deny
// (access_denied); a poll sooner than half the interval after the
// previous one, or any poll under FaultSlowDown, answers slow_down; an
// expired code (or FaultExpiredDeviceCode) answers expired_token.
// WaitUserCode(ctx) hands the test the user code of the next device
// request, as a person reading it off the client's screen.
//
// Code flow: Browse(ctx, authURL) plays the browser: it GETs the authorize
// URL, the signed-in user consents, and it follows the 302 to the client's
// loopback redirect with code and state, returning a BrowseResult (the
// redirect, code, state, error, and the loopback server's status and
// body). BrowseDeny refuses consent (error=access_denied). The token
// exchange checks the code_verifier, the redirect_uri and the client; a
// code used twice revokes what its first exchange got.
//
// Without a flow: Issue(Grant{User, ClientID, Scope, Audience, AccessTTL,
// Extra}) makes a family and its tokens (a negative AccessTTL gives an
// expired access token; Extra claims, such as a upn or email_verified,
// go into the access token and the introspection answer, and make a
// token as long as wanted); Revoke, RevokeFamily and Active act on any
// token.
//
// Faults (SetFault(f, on)): FaultDown (every connection is closed at once),
// FaultMalformedTokenResponse (200 with a body that is not JSON),
// FaultWrongAudience (aud "wrong-audience"), FaultBadSignature (signed by
// an unpublished key with the real kid), FaultExpiredDeviceCode,
// FaultSlowDown (once), FaultIntrospectionDown (503).
//
// Clock: Options.Now; ManualClock (NewManualClock, Now, Advance) moves
// only when told, for expiry without waiting. Counts reports what the
// provider has done (token requests, refreshes, grants, polls,
// introspections, revocations, JWKS fetches, discoveries, reuses).
//
// Nothing here writes a token to Options.Logf. The package imports only
// the standard library; it is for tests only and nothing but tests may
// import it.
package testidp
