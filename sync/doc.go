// Package sync moves mail between a remote server and the local store:
// two-way IMAP sync with a journal of local changes (sync/imap), POP3
// download with the account's deletion policy (sync/pop3), and sending
// through SMTP with the outbox flush (sync/submit), publishing progress
// events as it goes. This package holds only what they share: the
// progress Event and the Reporter that receives it.
//
// It and its subpackages may import store only; they must not import
// accounts, ui or server (tests may start a server/ in-process as a
// peer).
//
// Import it under another name, as the standard library has a sync too:
//
//	import lbsync "github.com/letterbox-mail/letterbox/sync"
package sync
