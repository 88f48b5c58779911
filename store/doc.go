// Package store is letterbox's mail store: the one storage engine used by the
// client as its local cache and by the server as its mailboxes.
//
// On disk a store is a directory:
//
//	ROOT/
//	  index.db, index.db-wal   SQLite (WAL) index: mailboxes, messages, FTS5
//	  mail/
//	    INBOX/{tmp,new,cur}/   one Maildir per mailbox, readable by notmuch,
//	    Sent/{tmp,new,cur}/    mutt and mbsync; hierarchy "a/b" is stored as
//	    a.b/{tmp,new,cur}/     the flat directory "a.b" (see mailboxDir)
//	  lock, write.lock, sync.lock, outbox.lock, counters, sessions/
//	                           how the processes sharing the store
//	                           coordinate (lock.go)
//
// The message file is the truth for the body; the index is the truth for
// UIDs, MODSEQs and flags (the standard flags are mirrored in the Maildir
// ":2," file name suffix so other Maildir readers see them).
//
// Invariants:
//   - A message is acknowledged (Append returns) only after its file was
//     fsynced in tmp/, renamed into cur/, the directory fsynced, and its index
//     row committed. Bulk appends batch the fsyncs and the transaction but
//     return nothing before all of them are durable. Concurrent appends are
//     group-committed in two overlapping stages (groupcommit.go); a batch of
//     several files is made durable by one syncfs(2) of the mail
//     filesystem instead of an fsync per file.
//   - A message file never exists without the identity a sync needs to
//     recognise it: the name it gets in cur/ carries its Remote (remote
//     UID, POP3 UIDL, append token; identity.go), so a crash between the
//     rename into cur/ and the commit of its row leaves an orphan that
//     reconciling indexes WITH its identity, and no sync fetches it again.
//     Check reports messages stored twice (Report.Duplicates).
//   - The index commits with synchronous=NORMAL: the file (the truth for the
//     body) is on disk before the commit, and only a power loss can roll
//     back committed index rows. A durable session row, written before a
//     session's first write transaction and deleted by Close, tells a
//     later Open that the session crashed and its files must be
//     re-indexed; a mailbox that had some gets a new UIDVALIDITY, because
//     clients may have seen their UIDs.
//   - A session marks a mailbox dirty before its first file operation
//     there (session.go); Close records the Maildir directory's mtime
//     when no other session has it marked, and clears its marks. Open
//     rescans only mailboxes a dead session marked, and those no live
//     session marked whose directory mtime differs from the recorded one
//     (another program changed them), so reconciling costs what changed,
//     not the size of the store. Orphan files are indexed, rows without
//     files are dropped and reported.
//   - The full-text index is derived data. With Options.DeferText (the
//     server) an append commits a row in fts_pending instead of its
//     full-text row, and a background indexer writes those in large
//     batches when appends pause (textindex.go); every search that reads
//     the full-text index first indexes what waits, so no search misses
//     an acknowledged message.
//   - A message's MIME structure and envelope (mime.Structure, for IMAP's
//     BODYSTRUCTURE and ENVELOPE) are derived data too: Structures
//     computes them on first use with a bounded streaming parse and keeps
//     them in the table structures, whose rows go with their messages
//     (a trigger) and are recomputed when stale (structure.go).
//   - Changes are published to subscribers after commit, through a buffered(1)
//     notification channel per subscriber; a slow subscriber never blocks a
//     writer.
//
// Many processes may have one store open at once (the interface, sync
// --watch, a cron sync, scripts, the server); SQLite's WAL lets them read
// in parallel. The rules that make it safe:
//   - Writes are serialised across processes by an exclusive flock of
//     ROOT/write.lock taken with the in-process writer mutex (writeLock):
//     a write unit (file moves and their transaction) never interleaves
//     with another process's. Every value a write hands out is read under
//     that lock: UIDs from the mailbox row inside the transaction, MODSEQs
//     and message ids from ROOT/counters, which each writer updates before
//     its commit (withTx), so no UID, MODSEQ or id is given twice.
//     Only a process that writes holds anything, and only while it
//     writes: an interface that reads locks nothing.
//   - The group commit batches the appends of one process; another
//     process's appends take the write lock between its batches. Files a
//     process has placed in cur/ but not yet indexed carry its session id
//     in their names, and no other process takes them for orphans while
//     that session lives (ROOT/sessions/ID is flocked by it). A session
//     that dies leaves its marks; the next Open, or the next LockSync in a
//     process that stayed open, reconciles them (recoverDead).
//   - Caches are per process and checked against the others: the mailbox
//     lookup cache is emptied when the generation in ROOT/counters changes
//     (renames and deletes bump it); the full-text indexer (DeferText) asks fts_pending
//     rather than trusting its own count, and writes a message's row only
//     if it is still pending, so two indexers never write one twice.
//   - Subscribers hear of other processes' changes through a poll of
//     PRAGMA data_version every 250 ms while the store has subscribers
//     (feed_poll.go), turned into the same Change values from MODSEQs;
//     a process's own changes are published at once, and never twice.
//   - Syncs of one account take LockSync, which serialises them across
//     processes (two syncs at once would apply a change twice: the same
//     message stored twice, a journal entry replayed twice), and the
//     outbox flush takes the "outbox" lock. The journal is replayed only
//     under LockSync.
//   - MIME parsing never fails an append: a message that cannot be parsed is
//     stored whole and indexed with whatever could be read. Only an empty
//     message (ErrEmptyMessage) or a failing source or disk is refused.
//
// All SQL of the project lives in this package and sticks to portable SQL
// where it can (FTS5 is the exception), so the index could move to another
// database behind the same API.
//
// The narrow interface. The packages that use a store through its
// operations declare, each for itself, the interface of the operations
// they call, with var _ Store = (*store.Store)(nil): imapd.Store and
// pop3d.Store (server/imap, server/pop3), imapsync.Store, pop3.Store and
// submit.Store (sync/imap, sync/pop3, sync/submit). That is the Go way
// (interfaces belong to their users) and it is the better one here: the
// consumers need very different slices of *Store (POP3 seven operations,
// IMAP sync thirty-five), so each list is the exact contract a second
// implementation (the index in PostgreSQL) must meet for that consumer,
// and a test can fake just that. The composition roots keep the concrete
// type: server/backend opens a *Store per user and hands it out through
// the protocols' Backend interfaces, and accounts and the command line
// open and close their stores.
//
// Package store imports no other letterbox package but its own
// subpackages: store/mime, the streaming MIME parser and renderer, and
// store/query, the search language (parser, syntax tree, compiler to SQL
// over this package's schema). The store re-exports the types of its own
// API that they define (Address, Rendered, Attachment, HeaderField,
// QueryError) as aliases. Search and Count scope a query to
// SearchOptions.Mailbox by one rule, query.Scope, on the syntax tree. The
// Maildir/mbox readers are written here because no maintained library
// reads them over streams with the limits we need; decoding itself is
// go-message's and HTML-to-text is inbucket/html2text.
package store
