// Package query is the store's search language: lexer, parser, syntax
// tree, canonical formatter and compiler to SQL. Parse documents the
// language; a *Query is immutable and safe for concurrent use.
//
// Callers work on the syntax tree, never on query text: Scope confines a
// query to a mailbox by the one rule the store uses for every search and
// count (a query that names a mailbox with in: keeps it), NamesMailbox
// asks whether a query names one, and SplitMailbox takes a top-level
// in: term off so the store can run the rest in one mailbox through its
// indexes.
//
// The compiled SQL (Query.SQL, Query.FullText) names the store's schema and
// nothing else: the table messages aliased m (columns mailbox_id, date,
// size, has_attachment, seen, flagged, answered, draft, deleted, id), the
// table mailboxes (id, name) and the FTS5 table fts (columns from_addr,
// to_addr, cc_addr, subject, body; rowid = messages.id). User input only
// ever reaches SQL as arguments and FTS5 as quoted strings. Limits (256
// terms, 10 levels of nesting) keep the SQL inside SQLite's expression
// depth and the FTS5 expression inside its parser stack.
//
// Package query imports no other letterbox package; package store imports
// it and is the only package that runs its SQL.
package query
