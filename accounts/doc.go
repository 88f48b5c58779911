// Package accounts is the account layer: the TOML configuration, the
// credentials (OS keyring via go-keyring, with a password command as the
// fallback), server discovery, and the Account type the interface and the
// command line use to read, search, change and send mail. It reads from the
// store and writes through the store and the sync journal, so it behaves
// the same online and offline.
//
// It may import store and sync; it must not import ui or server.
//
// Status: not yet written (see the issue tracker); this file reserves the
// package and its boundary.
package accounts
