// Package pop3d is the server's POP3 front end: RFC 1939 (USER/PASS,
// STAT, LIST, RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL), RFC 2449 (CAPA,
// response codes, PIPELINING), RFC 2595 (STLS) and RFC 5034 (AUTH PLAIN,
// RFC 4616; and OAUTHBEARER, RFC 7628, and XOAUTH2 when the Backend can
// check OAuth2 tokens, oauth.go) over a user's INBOX in the mail store.
//
// It is written by hand: no usable Go POP3 server library exists, and the
// protocol is small. Besides the standard library it uses store,
// server/netlimit and server/backend (see Boundaries).
//
// # Sessions
//
// A session is one connection and one goroutine: greeting, then commands
// read one line at a time (at most Options.MaxLineLength octets with the
// CRLF; a longer line gets "-ERR Input line too long." and the connection
// is closed, as Dovecot does). Replies are buffered and flushed when no
// further pipelined command is waiting (RFC 2449 section 6.6).
//
//	AUTHORIZATION --USER/PASS or AUTH PLAIN--> TRANSACTION --QUIT--> UPDATE
//
// Logging in takes a snapshot of INBOX, the maildrop: message numbers 1..n
// stay fixed for the session whatever IMAP or delivery do meanwhile. DELE
// only marks; the marked messages are removed from the store, in one
// store transaction, when the client sends QUIT (the UPDATE state, RFC 1939
// section 6). A dropped connection, an idle timeout or a server shutdown
// removes nothing. A message removed by another protocol during the
// session makes RETR and TOP fail with -ERR.
//
// Only one POP3 session may hold a mailbox at a time; a second login gets
// "-ERR [IN-USE]" (RFC 2449 section 8.1.1) until the first one ends. The
// lock lives in the Server, so serve every POP3 listener of a process
// (plain and implicit TLS) from one Server.
//
// # Identifiers and sizes
//
// UIDL is the INBOX UIDVALIDITY and the message's UID as 16 hex digits,
// which the store never reuses (store message ids can be reused, so they
// are not used).
//
// Messages are sent with bare LF line ends turned into CRLF and a final
// CRLF added when missing (RFC 1939 section 11), and lines beginning with
// "." byte-stuffed (section 3). STAT and LIST report the size of the
// message as sent, before byte-stuffing; it is not the stored file's size
// when the file has LF line ends, so it is counted by reading the file the
// first time it is needed and kept in a per-Server cache keyed by the
// Maildir file name, which never changes its content.
//
// # TLS and authentication
//
// STLS is offered when Options.TLSConfig is set and the connection is not
// yet encrypted; its handshake has Options.HandshakeTimeout to finish. For
// POP3S (port 995, RFC 8314) hand Serve a server/netlimit listener with
// TLS (as the daemon does), or call ServeTLS: both bound the handshake. USER/PASS and AUTH are refused on a
// connection without TLS unless Options.AllowInsecureAuth is set (for
// development on loopback), and CAPA does not list them then. Failed
// logins are counted by the Backend, which delays answers per address and
// locks an account out per address ("-ERR [SYS/TEMP]", RFC 3206); a
// session is closed after three failures. Passwords and tokens are never
// logged. ServeListener can turn password logins off on one listener
// (USER, PASS and AUTH PLAIN then answer "-ERR Password login is
// disabled"). Before login, lines may be 12288 octets when OAuth2 is on,
// for an AUTH line with a bearer token.
//
// # Timeouts and limits
//
// A session may send nothing for Options.LoginIdleTimeout before login and
// Options.IdleTimeout after it. On a netlimit listener a login marks the
// connection, so that the global connection cap never evicts it; the caps
// themselves are the listener's business.
//
// # Boundaries
//
// It may import store, server/netlimit and server/backend (for its error
// values, mechanism names and ListenerTags); it must not import the other protocol packages. It declares the Backend it needs
// so tests can hand it a fake.
package pop3d
