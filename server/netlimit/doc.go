// Package netlimit keeps the server's connections within bounds, the same
// way for SMTP, IMAP and POP3. It wraps each net.Listener of the daemon:
//
//   - a global cap on open connections, shared by every listener and
//     counted at accept, before any TLS handshake, kept below the file
//     descriptor limit (DefaultMaxConns derives it from RLIMIT_NOFILE);
//   - a cap per remote IP and protocol (Protocol), applied to loopback
//     unless the protocol exempts it;
//   - a deadline on the TLS handshake of implicit-TLS listeners (ports 465,
//     993, 995): Accept returns a connection only once its handshake is
//     done, so a client that never finishes it holds nothing past
//     HandshakeTimeout;
//   - an idle timeout per connection (Conn.SetIdle): a read that waits
//     longer than that for data fails with a timeout. The protocols set
//     a short one before login and a long one after.
//
// When the global cap is reached, a new connection takes the place of the
// oldest connection that has not logged in yet, from the address holding
// the most such connections (Dovecot's login processes drop their oldest
// unauthenticated client the same way): half-open connections from one
// source cannot lock out a user from another. Only when every connection
// has logged in is the new one refused. A refused connection gets a short
// protocol reply on plain listeners (none on TLS ones) and is closed at
// once; refusals are logged at most once per LogEvery at Warn level.
//
// Sessions tell the limiter about logins with LoggedIn(conn), and change
// the idle timeout with SetIdle(conn, d); both find the *Conn under any
// wrapper that has a NetConn method (*tls.Conn has one) and do nothing
// on a connection netlimit did not accept.
//
// It imports only the standard library; the protocol packages and server
// import it.
package netlimit
