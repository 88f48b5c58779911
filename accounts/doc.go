// Package accounts is the account layer: the TOML configuration, the
// credentials (OS keyring via go-keyring, with a password command as the
// fallback), server discovery and account setup, and the Account type,
// the only door through which the interface and the command line read,
// search, change, sync and send mail. It reads from the store and writes
// through the store and the sync journal, so it behaves the same online
// and offline.
//
// It may import store and sync (and its subpackages); it must not import
// ui or server (its tests start server in-process as a peer). Its callers
// import it and accounts/compose only: the value types they need
// (Message, Mailbox, Rendered, Change, SyncEvent, FlushResult, ...) are
// re-exported here as aliases, and no store or sync type leaves the
// package except as such an alias (no *store.Store leaves it at all).
//
// One concern per file:
//
//	config.go, configfile.go,   Config and AccountConfig: config.toml at
//	validate.go, policy.go      $XDG_CONFIG_HOME/letterbox (DefaultConfigPath),
//	                            one [[account]] per account. LoadConfig
//	                            rejects unknown keys and any password;
//	                            Save writes atomically, mode 0600, dir 0700.
//	secrets.go                  Secrets: the OS keyring (service "letterbox",
//	                            user = account name), then password_cmd.
//	oauth2_config.go,           OAuth2 accounts: auth = "oauth2" and the
//	oauth2_providers.go         oauth2_* keys (OAuth2Settings, validated),
//	                            the Google and Microsoft presets (endpoints,
//	                            scopes, servers), OAuth2For (domain, MX,
//	                            autoconfig <authentication>OAuth2).
//	oauth2_flow.go              SignIn: the device grant (RFC 8628) and the
//	                            code flow with PKCE and a loopback redirect
//	                            (RFC 7636, RFC 8252), golang.org/x/oauth2.
//	oauth2_store.go             the refresh token: keyring user
//	                            "NAME:oauth2-refresh", else a 0600 token file
//	                            in the account's data directory; the
//	                            oauth2.lock that serialises refreshes.
//	oauth2_source.go            the account's sync.TokenSource: access token
//	                            in memory, refreshed before expiry, one
//	                            refresh at a time across processes, rotated
//	                            refresh tokens saved at once.
//	oauth2_add.go               AddAccount's OAuth2 path, Reauthorize
//	                            (account auth), TestAccountLogin.
//	tlserr.go                   ExplainTLS turns certificate and plain-text-
//	                            port failures into advice; TLSConfig (tls_ca).
//	autoconfig.go, discover.go  Discoverer.Discover: candidates from Mozilla
//	                            autoconfig, RFC 6186 SRV records, then guesses.
//	probe.go, probeconv.go,     Discoverer.Probe: which port greets with the
//	probeproto.go               protocol and offers TLS (RFC 8314 order).
//	setup.go                    Discoverer.Configure: discovery + probes into
//	                            a new AccountConfig.
//	add.go                      AddAccount: setup written once for the
//	                            command line and the wizard (FindServers,
//	                            TestLogin, keyring, config.toml).
//	account.go                  Account, OpenAccount, Close, folder roles.
//	types.go                    the re-exported value types and constants.
//	read.go                     Page, Count (one scoping rule, from the
//	                            query's syntax tree), Mailboxes, Addresses,
//	                            SaveAttachment, Subscribe, PendingChanges.
//	mail.go                     List, Message, Render, Raw, SetFlags, Move,
//	                            Delete, Archive (journaled for IMAP).
//	folders.go                  CreateFolder, RenameFolder, DeleteFolder,
//	                            SubscribeFolder (journaled for IMAP; local
//	                            only for POP3: FoldersLocalOnly).
//	changes.go                  FailedChanges, DescribeChange, RetryChange,
//	                            DropChange: changes the server refused.
//	send.go                     Compose, Reply, Forward, Queue, FlushOutbox,
//	                            Outbox: one submit.Outbox per account, whose
//	                            mutex and lock file serialise every flush;
//	                            ErrQueued.
//	drafts.go                   SaveDraft, OpenDraft, ReplaceDraft (APPEND
//	                            the new version, then expunge the old one),
//	                            SendDraft.
//	sync.go                     Sync, TestLogin, Temporary, ErrAuth,
//	                            ErrMassDelete.
//	connect.go                  the IMAP, POP3 and SMTP client settings of
//	                            an account, timeouts and size bound included.
//	watch.go                    Watch, WatchAll.
//
// Invariants: config.toml never holds a password, a token or a client
// secret, and no error message holds a token; no package-level
// mutable state; every network call takes a context and every dependency
// (keyring, command runner, HTTP client, resolver, dialer) is a field, so
// tests run against local fakes on 127.0.0.1 only. An Account is safe for
// concurrent use: local actions signal every running Watch through a
// fan-out under a lock, never by rewriting shared hooks. Errors of the
// servers have the kinds of package sync (Temporary, Auth, ...).
package accounts
