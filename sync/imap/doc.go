// Package imapsync owns two-way IMAP synchronisation between one account
// on a remote IMAP server and its local store (one store per account).
// It imports only our store and sync packages (tests may start our
// server in-process as a peer); it must not import accounts, ui or
// server.
//
// # What it does
//
// Every local mailbox mirrors the server mailbox of the same name (the
// server's hierarchy separator becomes "/", INBOX is store.Inbox). A
// Sync run, on one connection owned by the calling goroutine:
//
//  1. connects (TLS, STARTTLS or plain) and logs in: LOGIN with a
//     password, or AUTHENTICATE OAUTHBEARER/XOAUTH2 with a bearer token
//     (Config.OAuth2; oauth.go), refreshed and tried once more when
//     refused;
//  2. lists the server's mailboxes with their SPECIAL-USE roles and
//     subscriptions;
//  3. replays the journal of local changes (MOVE, or COPY + UID STORE
//     \Deleted + UID EXPUNGE; UID STORE; APPEND with UIDPLUS; CREATE,
//     RENAME, DELETE, SUBSCRIBE), then creates the local mailboxes it
//     needs, so a folder changed offline is not brought back first;
//  4. syncs each mailbox (subscribed ones, or those asked for): SELECT
//     (CONDSTORE when offered), UIDVALIDITY check, flag changes and the
//     new messages' sizes (FETCH CHANGEDSINCE the stored HIGHESTMODSEQ,
//     else UID FETCH 1:* FLAGS), the server's UID set (proved from the
//     counts when nothing was expunged, incr.go; else UID SEARCH ALL, or
//     the full flag fetch) beside the remote UIDs the store has (read
//     from their own index, not from the message rows), new messages
//     newest first in chunks, expunges by comparing UID sets; then, for
//     every mailbox, the bodies still missing, as the BodyPolicy says.
//     The flag changes and expunges go to the store at once, beside the
//     fetch of the new messages; what is left after the network work
//     (the wait for the new messages' writers, the saved state) runs on
//     a store lane while the next mailboxes are fetched (lane.go).
//
// New messages: when more than 200 are new, the newest 200 come as
// headers only, so the top of the list is usable at once; the rest, or
// all of them when there are fewer (the everyday incremental sync), come
// whole in one pass when the policy wants their body now and they are at
// most 1 MiB, and as headers only otherwise (big ones, older than
// BodyPolicy.Days, BodyPolicy.OnOpen), their bodies following in the
// background pass (headers.go says why a header pass over everything
// would not pay).
//
// A message of zero bytes on the server (Dovecot refuses to APPEND one,
// but a broken delivery can leave one in a Maildir) is mirrored as a
// marked placeholder (emptyPlaceholder), so the local count equals the
// server's.
//
// A connection lost in the middle of a Sync (a reset, a timeout) is
// resumed in the same run (Options.Resume: three reconnections, from
// 1 s): the steps run again from what the store and the journal hold, so
// nothing stored is fetched twice and a replayed change is not made
// twice (a MOVE the server did before the cut is found in its
// destination). A refused login, a certificate that does not verify or a
// hostile server end the run.
//
// Watch keeps INBOX live with IDLE and the other folders with NOTIFY
// (RFC 5465) where the server has it, or by polling their STATUS every
// Options.PollInterval (notify.go); it reconnects with backoff; a
// dropped connection or a sleeping laptop is an event, not a fatal
// error.
//
// # The wire
//
// The client library (go-imap v2 imapclient, patched copy in
// third_party) talks through a guard (guard.go, wirescan.go) that bounds
// every server response outside literals (Config.MaxLine, 1 MiB; lists of
// UIDs 64 times that), every literal (Config.MaxLiteral, 100 MiB) and a
// folder listing, which the library collects (32 MiB, 262,144 folders),
// and owns the deadlines: each step of connecting (TCP, TLS, STARTTLS, which
// is done below the library for that reason, and the greeting) has
// Config.ConnectTimeout, and while a reply is due the server may not stay
// silent longer than Config.CommandTimeout (renewed by every read; IDLE,
// answered by a continuation, is exempt). Fetched messages are held in
// memory only up to a budget per batch; the rest spill to unlinked
// temporary files (literal.go).
//
// # Local changes and the journal
//
// Local is what the account layer calls for flags, moves, deletes,
// appends and folders (create, rename, delete, subscribe; folders.go). Each action first writes a journal entry (JSON, with the
// remote UIDs, Message-IDs and store ids of the messages as they were),
// then applies the change to the store. That order is safe: a crash in
// between leaves a journal entry for a change the store does not show;
// replaying it puts the change on the server, and the next sync brings
// it back into the store. The reverse order could lose the change.
//
// Journal entries name messages by their store id, which survives local
// moves. Their remote UIDs are resolved at replay time, most recent source
// first: the UID a replayed move or append taught (kept under the
// sync-state key "imap:learned" until the journal drains; it makes a UID
// captured before that replay stale), the captured UID when the
// mailbox's UIDVALIDITY is unchanged, the message's current remote UID,
// and last a UID SEARCH for its Message-ID (only when exactly one message
// matches). A change whose message cannot be found is dropped with a note.
// A replayed move whose local half never happened (a crash after the
// journal write) is made in the store too. An APPEND whose connection
// died is looked for before it is sent again: the messages that arrived
// since are compared with it byte for byte, so a retry never uploads
// twice, and a truncated copy a server kept of the cut upload is deleted.
//
// # Conflict rules
//
// The server is the meeting point of all devices; the journal is replayed
// before the server's state is read, so a local change made since the
// last sync is the later writer.
//
//   - Flags merge per flag. A flag changed locally since the last sync
//     (a journal entry not yet replayed, or one replayed in this run)
//     wins over the server's value for that flag; local changes are sent
//     as +FLAGS/-FLAGS, never as a whole set, so the server keeps flags
//     changed elsewhere. A flag changed only on the server is applied
//     locally.
//   - An expunge on either side wins over a flag change: flags stored on
//     a UID the server expunged are a no-op, and a message deleted
//     locally stays deleted whatever the server changed on it.
//   - A local move of a message the server expunged is dropped with a
//     note, and the moved local copy is removed (the expunge wins); when
//     another device already moved the same message to the same mailbox,
//     the copy found there by Message-ID is adopted instead.
//   - A mailbox a replayed APPEND or MOVE needs and the server lacks
//     (Sent, Drafts, a folder another device deleted) is created there,
//     with its special use by CREATE-SPECIAL-USE (RFC 6154) when the
//     server has it; the local role is kept either way. A copy is never
//     dropped and a move never undone for want of a folder.
//   - Folder changes replay idempotently: CREATE of an existing folder,
//     RENAME whose source is gone and target exists, DELETE of a missing
//     folder are done already.
//   - A permanent NO counts an attempt; the third marks the entry failed
//     for good (store.JournalGiveUp): it stays in the journal with the
//     server's words, is no longer replayed, and waits for the user to
//     Retry or Drop it (failed.go; Drop undoes locally what it can). A
//     failed rename or folder delete keeps the folders it is about out
//     of the sync meanwhile. A temporary failure stops the replay, and
//     the rest waits for the next sync. An entry that cannot be decoded
//     is marked failed at once.
//   - Local deletions are replayed as MOVE to Trash (Local.Delete) or
//     UID STORE \Deleted + UID EXPUNGE (EXPUNGE without UIDPLUS).
//
// # Safety
//
// A mailbox sync that would delete more than half of the mailbox and
// more than 100 messages, locally (the server expunged them) or on the
// server (journal deletions), stops before deleting with a
// *MassDeleteError (errors.Is ErrMassDelete) unless Options.Force.
//
// When a mailbox's UIDVALIDITY changes, its remote UIDs are forgotten
// (store.ResetRemote) and it is synced again: server messages are matched
// to local ones by the UIDs replayed appends and moves taught, then by
// Message-ID; unmatched server messages are downloaded; local messages
// that were on the server before and match nothing are treated as
// expunged there (guarded as above); local-only messages and the pending
// journal are kept. A Note "UIDVALIDITY changed: re-synced" is reported.
//
// # Sync state
//
// Per mailbox, in the store's sync_state table: "imap:<mailbox>:uidvalidity",
// ":uidnext", ":modseq" (HIGHESTMODSEQ after the last complete flag pass),
// ":uids" (the count and SHA-256 of the server's UIDs below that UIDNEXT,
// which the next pass proves its UID set against, incr.go) and ":reset"
// (store ids still to match after a UIDVALIDITY change).
// A message's remote UID is stored with the message itself (store.Remote),
// so an interrupted sync never duplicates or loses a message.
//
// Errors are *lbsync.Error values naming the operation and mailbox ("imap
// fetch INBOX: ..."), classified by the kinds of package sync: errors.Is
// tells lbsync.ErrAuth (wrong credentials: do not retry),
// lbsync.ErrTemporary (network or server unavailable, a timeout: retry
// later) and ErrMassDelete (this package's own) apart.
package imapsync
