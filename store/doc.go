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
//   - The index commits with synchronous=NORMAL: the file (the truth for the
//     body) is on disk before the commit, and only a power loss can roll
//     back committed index rows. A durable "open" flag, set before a
//     session's first write transaction and cleared by Close,
//     tells the next Open that it must re-index such files; a mailbox that
//     had some gets a new UIDVALIDITY, because clients may have seen their
//     UIDs.
//   - Every write transaction marks the mailboxes it touched dirty; Close
//     records each Maildir directory's mtime and clears the marks. Open
//     rescans only mailboxes that are dirty (the process died since their
//     last write) or whose directory mtime differs from the recorded one
//     (another program changed them), so reconciling costs what changed, not
//     the size of the store. Orphan files are indexed, rows without files
//     are dropped and reported.
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
// IMAP sync twenty-five), so each list is the exact contract a second
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
