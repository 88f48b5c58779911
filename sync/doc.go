// Package sync moves mail between a remote server and the local store:
// two-way IMAP sync with a journal of local changes (sync/imap), POP3
// download with the account's deletion policy (sync/pop3), and sending
// through SMTP with the outbox flush (sync/submit), publishing progress
// events as it goes. This package holds only what they share: the
// progress Event and the Reporter that receives it (event.go), and the one
// error vocabulary (errors.go, classify.go): every error the three return
// has a Kind (Temporary, Auth, Permanent, Protocol, Cancelled, or Other
// for local failures), found with KindOf or errors.Is(err, ErrAuth) and
// the other sentinels, and network, TLS and context errors are classified
// by one function, Classify. A timeout is Temporary and its message names
// the operation that timed out (TimeoutError, with the default deadlines
// and the account's Timeouts in timeout.go); Resume (resume.go) is how a
// sync cut by the network reconnects inside the same run. OAuth2 logins
// share oauth.go (TokenSource, the one retry after a refresh, the
// server's JSON error challenge, RFC 7628) and its SASL clients,
// oauthbearer.go (OAUTHBEARER) and xoauth2.go (XOAUTH2).
//
// It and its subpackages may import store only; they must not import
// accounts, ui or server (tests may start a server/ in-process as a
// peer).
//
// Import it under another name, as the standard library has a sync too:
//
//	import lbsync "github.com/letterbox-mail/letterbox/sync"
package sync
