// Package ui is the terminal interface: a Bubble Tea root model composing
// the folder sidebar, the virtualised message list, the message view, the
// composer, the search prompt, the status line and the setup wizard.
//
// It talks to mail only through package accounts. It must not import
// store's SQL, sync or server, must not touch the network, and its Update
// never blocks: every I/O call is a tea.Cmd that returns a message.
//
// Status: not yet written (see the issue tracker); this file reserves the
// package and its boundary.
package ui
