package store

// schemaVersion is stored in PRAGMA user_version.
const schemaVersion = 11

// schema creates the index. Addresses are stored as JSON arrays of
// {"name","addr"} objects; flags as a space-separated, sorted list with
// the system flags also mirrored in boolean columns for fast queries.
// Dates are Unix seconds.
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mailboxes (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	dir           TEXT NOT NULL UNIQUE,
	special_use   TEXT NOT NULL DEFAULT '',
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL DEFAULT 1,
	highestmodseq INTEGER NOT NULL DEFAULT 0,
	subscribed    INTEGER NOT NULL DEFAULT 1,
	total         INTEGER NOT NULL DEFAULT 0,
	unread        INTEGER NOT NULL DEFAULT 0,
	cur_mtime     INTEGER NOT NULL DEFAULT 0,
	new_mtime     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
	id             INTEGER PRIMARY KEY,
	mailbox_id     INTEGER NOT NULL REFERENCES mailboxes(id),
	uid            INTEGER NOT NULL,
	modseq         INTEGER NOT NULL,
	flags          TEXT NOT NULL DEFAULT '',
	seen           INTEGER NOT NULL DEFAULT 0,
	answered       INTEGER NOT NULL DEFAULT 0,
	flagged        INTEGER NOT NULL DEFAULT 0,
	deleted        INTEGER NOT NULL DEFAULT 0,
	draft          INTEGER NOT NULL DEFAULT 0,
	internal_date  INTEGER NOT NULL,
	size           INTEGER NOT NULL,
	file           TEXT NOT NULL,
	date           INTEGER NOT NULL,
	from_addr      TEXT NOT NULL DEFAULT '[]',
	to_addr        TEXT NOT NULL DEFAULT '[]',
	cc_addr        TEXT NOT NULL DEFAULT '[]',
	subject        TEXT NOT NULL DEFAULT '',
	message_id     TEXT NOT NULL DEFAULT '',
	in_reply_to    TEXT NOT NULL DEFAULT '',
	refs           TEXT NOT NULL DEFAULT '',
	thread_id      INTEGER NOT NULL DEFAULT 0,
	has_attachment INTEGER NOT NULL DEFAULT 0,
	preview        TEXT NOT NULL DEFAULT '',
	UNIQUE (mailbox_id, uid)
);
CREATE INDEX IF NOT EXISTS messages_by_date   ON messages (mailbox_id, date DESC, id DESC);
CREATE INDEX IF NOT EXISTS messages_by_modseq ON messages (mailbox_id, modseq);
CREATE INDEX IF NOT EXISTS messages_by_msgid  ON messages (message_id);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (thread_id, date);

-- threads: one row per conversation; last_date orders threads.
CREATE TABLE IF NOT EXISTS threads (
	id        INTEGER PRIMARY KEY,
	subject   TEXT NOT NULL DEFAULT '',
	last_date INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS threads_by_subject ON threads (subject, last_date);
-- thread_refs maps every Message-ID seen (own or referenced) to its thread,
-- so a reply that arrives before its parent still joins the thread.
CREATE TABLE IF NOT EXISTS thread_refs (
	message_id TEXT PRIMARY KEY,
	thread_id  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS thread_refs_by_thread ON thread_refs (thread_id);

-- expunged remembers removed UIDs so ChangesSince can report them
-- (QRESYNC VANISHED, sync). Pruned per mailbox beyond a window.
CREATE TABLE IF NOT EXISTS expunged (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	modseq     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS expunged_by_modseq ON expunged (mailbox_id, modseq);

-- fts is contentless: rowid = messages.id. Columns are addressed by the
-- query language (from:, to:, cc:, subject:, body:).
-- Version 2: the client's sync state (see syncstate.go).
CREATE TABLE IF NOT EXISTS remote_uids (
	message_id INTEGER PRIMARY KEY,
	mailbox_id INTEGER NOT NULL,
	remote_uid INTEGER NOT NULL,
	partial    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (mailbox_id, remote_uid)
);
-- Version 3: the messages whose body is still to fetch, found without
-- reading every row of the mailbox.
CREATE INDEX IF NOT EXISTS remote_partial ON remote_uids (mailbox_id) WHERE partial = 1;
CREATE TABLE IF NOT EXISTS remote_ids (
	key        TEXT PRIMARY KEY,
	message_id INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL,
	server_gone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sync_state (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
	id         INTEGER PRIMARY KEY,
	op         TEXT NOT NULL,
	payload    TEXT NOT NULL,
	created    INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
	from_addr, to_addr, cc_addr, subject, body,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);
-- Version 4: FTS5 merges 16 segments of a level at a time instead of 4.
-- A busy MX commits a small segment per group-commit batch, and the
-- default merged them so eagerly that full-text upkeep cost a sixth of
-- its delivery rate; a search reads a few more segments, which costs
-- little beside reading its rows (docs/BENCHMARKS.md).
INSERT INTO fts(fts, rank) VALUES('automerge', 16);
-- Version 5: no index by file name. No query needed it (a check reads a
-- mailbox's rows by mailbox_id), and every delivery paid for its long key.
DROP INDEX IF EXISTS messages_by_file;
-- Version 6: messages whose full-text row is still to write
-- (Options.DeferText, textindex.go).
CREATE TABLE IF NOT EXISTS fts_pending (
	message_id INTEGER PRIMARY KEY
);
-- Version 7: many processes on one store (session.go, feed.go).
-- sessions: the open Stores that have written; a row whose session is
-- not alive is one that crashed. session_dirty: the mailboxes whose
-- files each of them may have left out of step with the index.
CREATE TABLE IF NOT EXISTS sessions (
	id      TEXT PRIMARY KEY,
	pid     INTEGER NOT NULL,
	started INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_dirty (
	session    TEXT NOT NULL,
	mailbox_id INTEGER NOT NULL,
	PRIMARY KEY (session, mailbox_id)
) WITHOUT ROWID;
-- mailbox_changes: mailboxes created, renamed and deleted, by MODSEQ, so
-- other processes' subscribers hear of them (the last 1000 are kept).
CREATE TABLE IF NOT EXISTS mailbox_changes (
	modseq     INTEGER PRIMARY KEY,
	kind       INTEGER NOT NULL,
	mailbox_id INTEGER NOT NULL,
	name       TEXT NOT NULL,
	old_name   TEXT NOT NULL DEFAULT ''
);
-- Version 8: journal entries the server refused for good, kept (shown
-- as failed changes) until the user retries or drops them. The trigger
-- forgets the mark with its entry.
CREATE TABLE IF NOT EXISTS journal_failed (
	journal_id INTEGER PRIMARY KEY,
	failed_at  INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS journal_failed_gone AFTER DELETE ON journal BEGIN
	DELETE FROM journal_failed WHERE journal_id = old.id;
END;
-- Version 9: the MIME structure and envelope of a message (mime.Structure,
-- for IMAP's BODYSTRUCTURE and ENVELOPE; structure.go), recorded on first
-- use. size is the message's, so a replaced body is told. The trigger
-- drops the row with its message, whatever path deletes it.
CREATE TABLE IF NOT EXISTS structures (
	message_id INTEGER PRIMARY KEY,
	size       INTEGER NOT NULL,
	data       BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS structures_gone AFTER DELETE ON messages BEGIN
	DELETE FROM structures WHERE message_id = old.id;
END;
-- Version 10: the thread order (threadorder.go: columns, index and
-- triggers added by migrateThreadOrder).
-- Version 11: CJK runs indexed as bigrams; the full text is rebuilt
-- (cjkindex.go).
`
