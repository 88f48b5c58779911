// Package server is the companion daemon behind "letterbox serve": it
// reads the configuration, opens the listeners and wires the protocol
// servers to the shared pieces. On disk, under the data directory:
//
//	DATA/passwd               users and argon2id hashes (server/users)
//	DATA/mail/<address>/      one store per user (store)
//	DATA/queue/               the outbound queue (server/queue)
//	DATA/queue/mta-sts/       cached MTA-STS policies of recipient domains
//	DATA/tls/cert.pem,key.pem the self-signed certificate of --dev
//	DATA/dkim/                keys from `letterbox serve dkim keygen`
//
// The parts, each its own package: server/backend (users, stores, login
// penalty), server/netlimit (connection caps, handshake deadlines, idle
// timeouts, shared by every listener), server/smtp (MX and submission),
// server/delivery (local delivery, all recipients or none, and hand-off to
// the queue), server/queue (durable outbound queue, MX lookup, retries,
// DSNs), server/imap, server/pop3, server/tlsutil.
//
// Logins: passwords, and OAuth2 bearer tokens when [oauth2] is set
// (auth.go turns it and [auth] into the backend's OAuthOptions and each
// listener's ListenerOptions: password logins can be off per listener).
//
// Lifecycle: New opens the users and prepares TLS; Start opens the queue
// and the listeners (ctx bounds the start only, and a failed Start closes
// everything); Shutdown lets sessions finish, Close stops at once. The
// three protocol servers have net/http's shape: Serve(l) returns their
// ErrServerClosed after Shutdown or Close, and Close cancels the base
// context their sessions' work runs on.
//
// It imports store and its own subpackages (and store/mailgen for the
// sample mail of --dev); nothing but main imports server.
package server
