// Package sync moves mail between a remote server and the local store:
// two-way IMAP sync with a journal of local changes, POP3 download with the
// account's deletion policy, and the outbox flush, publishing progress
// events as it goes.
//
// It may import store only; it must not import accounts, ui or server.
//
// Status: not yet written (see the issue tracker); this file reserves the
// package and its boundary.
package sync
