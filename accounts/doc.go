// Package accounts is the account layer: the TOML configuration, the
// credentials (OS keyring via go-keyring, with a password command as the
// fallback), server discovery, and the Account type the interface and the
// command line use to read, search, change and send mail. It reads from the
// store and writes through the store and the sync journal, so it behaves
// the same online and offline.
//
// It may import store and sync; it must not import ui or server.
//
// What is here so far, one concern per file:
//
//	config.go, configfile.go,   Config and AccountConfig: config.toml at
//	validate.go, policy.go      $XDG_CONFIG_HOME/letterbox (DefaultConfigPath),
//	                            one [[account]] per account. LoadConfig
//	                            rejects unknown keys and any password;
//	                            Save writes atomically, mode 0600, dir 0700.
//	secrets.go                  Secrets: the OS keyring (service "letterbox",
//	                            user = account name), then password_cmd.
//	tlserr.go                   ExplainTLS turns certificate and plain-text-
//	                            port failures into advice; TLSConfig (tls_ca).
//	autoconfig.go, discover.go  Discoverer.Discover: candidates from Mozilla
//	                            autoconfig, RFC 6186 SRV records, then guesses.
//	probe.go, probeconv.go,     Discoverer.Probe: which port greets with the
//	probeproto.go               protocol and offers TLS (RFC 8314 order).
//	setup.go                    Discoverer.Configure: discovery + probes into
//	                            a new AccountConfig.
//
// Invariants: config.toml never holds a password; no package-level
// mutable state; every network call takes a context and every dependency
// (keyring, command runner, HTTP client, resolver, dialer) is a field, so
// tests run against local fakes on 127.0.0.1 only. Logging in is not
// tested here: the protocol clients plug in as a LoginTester.
package accounts
