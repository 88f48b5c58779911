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
//  1. connects (TLS, STARTTLS or plain) and logs in;
//  2. lists the server's mailboxes with their SPECIAL-USE roles and
//     subscriptions, and creates the local mailboxes it needs;
//  3. replays the journal of local changes (MOVE, or COPY + UID STORE
//     \Deleted + UID EXPUNGE; UID STORE; APPEND with UIDPLUS);
//  4. syncs each mailbox (subscribed ones, or those asked for): SELECT
//     (CONDSTORE when offered), UIDVALIDITY check, the server's UID set
//     (UID SEARCH ALL, or the full flag fetch), new messages newest first
//     in chunks, flag changes (FETCH CHANGEDSINCE the stored
//     HIGHESTMODSEQ, else UID FETCH 1:* FLAGS), expunges by comparing UID
//     sets; then, for every mailbox, the bodies still missing, as the
//     BodyPolicy says.
//
// New messages: the newest 200 come as headers only, so the top of the
// list is usable at once; the rest come whole in one pass when the policy
// wants their body now and they are at most 1 MiB, and as headers only
// otherwise (big ones, older than BodyPolicy.Days, BodyPolicy.OnOpen),
// their bodies following in the background pass (headers.go says why a
// header pass over everything would not pay).
//
// Watch keeps INBOX live with IDLE and reconnects with backoff; a dropped
// connection or a sleeping laptop is an event, not a fatal error.
//
// # Local changes and the journal
//
// Local is what the account layer calls for flags, moves, deletes and
// appends. Each action first writes a journal entry (JSON, with the
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
//   - A replay whose target mailbox vanished on the server is dropped
//     with a note; a dropped move puts the message back where the server
//     still has it. A permanent NO marks the entry failed; after three
//     failures it is dropped. A temporary failure stops the replay, and
//     the rest waits for the next sync.
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
// ":uidnext", ":modseq" (HIGHESTMODSEQ after the last complete flag pass)
// and ":reset" (store ids still to match after a UIDVALIDITY change).
// A message's remote UID is stored with the message itself (store.Remote),
// so an interrupted sync never duplicates or loses a message.
//
// Errors are *lbsync.Error values naming the operation and mailbox ("imap
// fetch INBOX: ..."), classified by the kinds of package sync: errors.Is
// tells lbsync.ErrAuth (wrong credentials: do not retry),
// lbsync.ErrTemporary (network or server unavailable, a timeout: retry
// later) and ErrMassDelete (this package's own) apart.
package imapsync
