package accounts

import (
	"context"
	"crypto/tls"
	"net"

	lbsync "github.com/letterbox-mail/letterbox/sync"
	imapsync "github.com/letterbox-mail/letterbox/sync/imap"
	"github.com/letterbox-mail/letterbox/sync/pop3"
	"github.com/letterbox-mail/letterbox/sync/submit"
)

// The connection settings of the three protocol clients, built from one
// account's configuration: endpoint, security, credentials, and the
// timeouts and size bound of config.toml (connect_timeout,
// command_timeout, max_message_size; zero takes the client's default).
// Sync, Watch, send and TestLogin all go through these, so a timeout set
// in the configuration reaches every connection.

// dialFunc opens a TCP connection (net.Dialer.DialContext when nil).
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// credential is how a connection signs in: a password, or the OAuth2
// token source of the account (then the password is unused).
type credential struct {
	password string
	oauth    lbsync.TokenSource
}

func (a AccountConfig) imapConfig(addr string, sec Security, tc *tls.Config, dial dialFunc, cr credential) imapsync.Config {
	return imapsync.Config{Addr: addr, Security: string(sec), TLS: tc, Dial: dial, Login: a.Username(), Password: cr.password,
		OAuth2: cr.oauth, ConnectTimeout: a.ConnectTimeout, CommandTimeout: a.CommandTimeout, MaxLiteral: a.MaxMessageSize}
}

func (a AccountConfig) pop3Config(addr string, sec Security, tc *tls.Config, dial dialFunc, cr credential) pop3.Config {
	return pop3.Config{Addr: addr, Security: pop3.Security(sec), TLS: tc, Dial: dial, Login: a.Username(), Password: cr.password,
		OAuth2: cr.oauth, ConnectTimeout: a.ConnectTimeout, Timeout: a.CommandTimeout, MaxMessage: a.MaxMessageSize}
}

// smtpServer returns the submission server s (with defaults applied).
func (a AccountConfig) smtpServer(s ServerConfig, tc *tls.Config, dial dialFunc, cr credential) submit.Server {
	return submit.Server{Host: s.Host, Port: s.Port, Security: string(s.Security), Login: a.Username(), Password: cr.password,
		OAuth2: cr.oauth, TLS: tc, Dial: dial, ConnectTimeout: a.ConnectTimeout, Timeout: a.CommandTimeout}
}
