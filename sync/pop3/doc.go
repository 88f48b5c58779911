// Package pop3 is the client side of POP3 accounts: a hand-written POP3
// client and Sync, which downloads new mail into the store's INBOX and
// applies the account's server-side policy.
//
// # The client
//
// Client speaks RFC 1939 (USER/PASS, STAT, LIST, RETR, TOP, DELE, RSET,
// NOOP, QUIT, UIDL) with the extensions of RFC 2449 (CAPA, response
// codes, PIPELINING), RFC 2595 (STLS), RFC 5034 (AUTH PLAIN, RFC 4616;
// AUTH OAUTHBEARER and XOAUTH2, RFC 7628, with Config.OAuth2: oauth.go) and
// RFC 3206 (the AUTH and SYS response codes). It is written by hand
// because the available libraries get dot-stuffing and long lines wrong.
// Its rules:
//
//   - Message bodies stream: a line may be of any length, ".." at the
//     start of a line loses one dot, ".\r\n" (or ".\n") ends the body, line
//     ends come out as CRLF, and a connection lost before the end is an
//     error, never a message that looks complete (dotreader.go).
//   - Everything read is bounded, so a hostile server can exhaust
//     neither memory nor disk: a status line or a listing's line at 64
//     KiB, a listing (CAPA, LIST, UIDL) at 64 MiB and a million lines, a
//     message (RETR, TOP) at Config.MaxMessage (100 MiB). Past a bound
//     the connection fails with a Protocol error ("message longer than
//     100 MiB: hostile or broken server").
//   - The password is never sent over a connection without TLS unless
//     Config.Security is SecurityNone; SecurityStartTLS without STLS is
//     refused (ErrNoTLS); after STLS the capabilities are asked again.
//   - Every read and write takes its deadline from the operation's
//     context and the timeout of the phase: Config.ConnectTimeout for the
//     TCP connect, the TLS handshake and the greeting, Config.Timeout (an
//     inactivity bound) after; a deadline that passes is an
//     lbsync.TimeoutError saying what did not come ("no greeting within
//     30s", "server silent for 60s"). Cancelling the context interrupts
//     a blocked read or write.
//   - Errors have the kinds of package sync: Temporary (lbsync.IsTemporary)
//     for the network, timeouts and "[SYS/TEMP]", "[IN-USE]",
//     "[LOGIN-DELAY]"; Auth for a refused login; Protocol for a reply that
//     breaks RFC 1939; Permanent for the rest; with ErrInUse, ErrNoUIDL,
//     ErrNoTLS, ErrInsecure where they apply.
//   - With PIPELINING, RETR and DELE are sent Config.Window ahead.
//
// # Sync
//
// The store remembers each downloaded message's UIDL (as the remote id
// "pop3:" + UIDL) in the same transaction that stores the message, and
// keeps remembering it after the message is deleted locally or on the
// server. From that one invariant follow the promises of Sync, at an
// interruption at any byte: no message is lost (nothing is deleted on the
// server unless the store has it durably, and the server deletes only at
// a QUIT we sent) and none is stored twice (a message is either stored
// with its UIDL or not at all). A session lost in the middle is resumed
// in the same Sync (Options.Resume). See Sync for the steps.
//
// Policies (Options.Policy): Keep leaves mail on the server, Delete
// removes it once stored, KeepDays removes it N days after it was stored;
// Options.DeleteLocal also removes what the user deleted locally. Mail
// downloaded over POP3 is ordinary store mail: folders, flags and search
// work as for IMAP accounts.
//
// # Boundaries
//
// It imports store and sync (for the progress events) only; never
// accounts, ui or server (its tests start a server in-process as a peer,
// and a real Dovecot). It keeps no package-level mutable state.
package pop3
