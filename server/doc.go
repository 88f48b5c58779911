// Package server is the companion daemon behind "letterbox serve": SMTP
// (MX inbound, authenticated submission and an outbound queue), IMAP and
// POP3 over the same store the client uses, plus its users.
//
// It may import store only; nothing imports server.
//
// Status: not yet written (see the issue tracker); this file reserves the
// package and its boundary.
package server
