// Package imapd is letterbox's IMAP server: IMAP4rev1 (RFC 3501) and
// IMAP4rev2 (RFC 9051) over the mail store, built on go-imap v2's
// imapserver, which owns the wire protocol (parsing, literals, response
// encoding, STARTTLS, state checks). This package owns the session
// semantics: logins through the Backend, mailboxes, sequence numbers,
// FETCH, STORE, SEARCH, COPY/MOVE, APPEND and the live updates of IDLE.
//
// Logins: LOGIN and AUTHENTICATE PLAIN with passwords (unless the
// listener has them off: ServeListener), and AUTHENTICATE OAUTHBEARER (RFC
// 7628) and XOAUTH2 with OAuth2 bearer tokens when the Backend can check
// them (OAuthBackend; the SASL exchange and its error challenge are
// server/backend's, auth.go turns its errors into RFC 5530 codes).
//
// Extensions: IDLE (RFC 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851),
// SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), LITERAL+ (RFC 7888),
// APPENDLIMIT (RFC 7889), NAMESPACE (RFC 2342), UNSELECT, ENABLE,
// ESEARCH and SEARCHRES (part of IMAP4rev2), STATUS=SIZE (RFC 8438).
//
// Live updates. Every logged-in user has one userState shared by that
// user's sessions: one subscription to the store's change feed and, per
// selected mailbox, one mailboxState holding the server's view of the
// mailbox (its UIDs in order) and an imapserver.MailboxTracker. Each
// committed change of the store (from this server, POP3, SMTP delivery or
// the command line) is applied exactly once to that view, by whoever
// drains the feed first: the user's dispatcher goroutine, or a session
// polling before it answers a command. The tracker turns the change into
// EXISTS, EXPUNGE and FETCH FLAGS responses with each session's own
// sequence numbers. A session's own flag changes are drained while it still
// holds the user's write lock, so they are queued for the other sessions
// only, and answered to the client by the command itself.
//
// Hostile input. imapserver is used from third_party/go-imap, a copy of
// go-imap v2.0.0-beta.8 with its command reader fixed (LETTERBOX.md there
// lists each patch): a literal over 4,096 bytes outside APPEND's message
// is refused at once, refused non-synchronizing literals (RFC 7888
// section 4) and the rest of a failed command are skipped and never read
// as commands, and client syntax errors are BAD, not NO [SERVERBUG].
// Mailbox names are checked before any store call (names.go) against the
// store's rules and Options.Limits (length, depth, mailboxes per user);
// LIST patterns are matched in time linear in the name (listmatch.go).
// FuzzIMAPSession feeds command streams through all of it.
//
// Transport: Serve takes a net.Listener. For IMAPS (port 993, RFC 8314)
// the caller wraps the listener with tls.NewListener; on port 143 the
// server offers STARTTLS when Options.TLSConfig is set and refuses LOGIN
// (LOGINDISABLED) before TLS unless Options.InsecureAuth is set, which is
// for development and loopback only.
//
// Connections and lifecycle: served on a server/netlimit listener (as the
// daemon does), a connection may stay silent Options.LoginIdleTimeout
// before login and Options.IdleTimeout after it (IDLE at least 30
// minutes), then gets "* BYE Autologout" and is closed (patch 14 of
// third_party/go-imap); it is marked logged in, so that the global connection cap
// never evicts it. Every command runs on a context derived from the
// server's base context, which Close cancels (and Shutdown, once its grace
// period is over), so a long SEARCH or FETCH ends with the server. Serve
// returns ErrServerClosed after Close or Shutdown, as net/http does.
//
// Package imapd imports store, server/netlimit, and server/backend for its
// error values, mechanism names and ListenerTags only; it must not import the other server packages (it
// declares the Backend interface it needs) nor ui/ or sync/.
package imapd
