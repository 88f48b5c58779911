package testpeer

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// Dovecot is a private Dovecot (Debian dovecot-imapd + dovecot-pop3d)
// started by a test on loopback with its own config, users and Maildirs.
// It is stopped when the test ends.
type Dovecot struct {
	// IMAP and POP3 are plain ports (STARTTLS/STLS offered, plain-text
	// login allowed); IMAPS and POP3S are implicit TLS. Each is
	// "127.0.0.1:port".
	IMAP, IMAPS, POP3, POP3S string
	// Roots trusts the server's self-signed certificate (for 127.0.0.1).
	Roots *x509.CertPool
	// CAFile is the certificate as a PEM file, for --tls-ca.
	CAFile string
	dir    string
	bin    string
	proc   *os.Process
	exited chan struct{}
	uid    int
	gid    int
	opts   DovecotOptions
}

// StartDovecot starts a Dovecot with users (address -> password), or
// skips the test (fails under LETTERBOX_REQUIRE_PEERS=1) when Dovecot is
// not installed. Dovecot cannot take a listener from us, so its ports
// are picked by the OS (":0"), released and handed to it; a start that
// loses the race for a port is retried.
func StartDovecot(t testing.TB, users map[string]string) *Dovecot {
	t.Helper()
	return StartDovecotWith(t, users, DovecotOptions{})
}

// DovecotOptions vary the private Dovecot's configuration.
type DovecotOptions struct {
	// NoSpecialFolders leaves out the Sent, Drafts, Trash, Archive and
	// Junk folders that are otherwise created for every user (with
	// their SPECIAL-USE roles): a server that has none of them.
	NoSpecialFolders bool
	// OAuth2, when set, adds OAuth2 logins (AUTHENTICATE XOAUTH2 and
	// OAUTHBEARER, RFC 7628; POP3 AUTH the same) checked by token
	// introspection (RFC 7662) at an identity provider, besides the
	// password logins of the other tests.
	OAuth2 *DovecotOAuth2
}

// DovecotOAuth2 is the identity provider a Dovecot with OAuth2 logins
// asks about each token (Dovecot's passdb oauth2, introspection_mode
// post). The token's "email" claim names the user.
type DovecotOAuth2 struct {
	// IntrospectionURL is the provider's RFC 7662 endpoint.
	IntrospectionURL string
	// ClientID and ClientSecret authenticate Dovecot to it (HTTP Basic,
	// given in the URL's user information as Dovecot takes them).
	ClientID, ClientSecret string
	// CAPEM trusts the provider's certificate.
	CAPEM []byte
	// Mechanisms are the SASL mechanisms offered for tokens: "xoauth2
	// oauthbearer" when empty.
	Mechanisms string
}

// StartDovecotWith is StartDovecot with options.
func StartDovecotWith(t testing.TB, users map[string]string, opts DovecotOptions) *Dovecot {
	t.Helper()
	bin := Require(t, "dovecot", "dovecot-imapd dovecot-pop3d")
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		Missing(t, "dovecot's imap service (Debian package dovecot-imapd) is not installed")
	}
	if _, err := os.Stat("/usr/lib/dovecot/pop3"); err != nil {
		Missing(t, "dovecot's pop3 service (Debian package dovecot-pop3d) is not installed")
	}
	dir, err := os.MkdirTemp("", "letterbox-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &Dovecot{dir: dir, bin: bin, uid: os.Getuid(), gid: os.Getgid(), opts: opts}
	// Dovecot refuses to run mail processes as root: as root, the mail
	// belongs to nobody.
	if d.uid == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("dovecot: %v", err)
		}
		d.uid, _ = strconv.Atoi(u.Uid)
		d.gid, _ = strconv.Atoi(u.Gid)
	}
	for _, sub := range []string{"run", "state", "home", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var passwd strings.Builder
	for addr, pw := range users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s\n", addr, pw)
		if err := os.MkdirAll(d.MailDir(addr), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.chown(t, filepath.Join(dir, "mail"), filepath.Join(dir, "home"))
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(passwd.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1", "::1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	d.CAFile = filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(d.CAFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	d.Roots = x509.NewCertPool()
	d.Roots.AppendCertsFromPEM(certPEM)

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if lastErr = d.start(t); lastErr == nil {
			return d
		}
	}
	t.Fatalf("dovecot did not start: %v", lastErr)
	return nil
}

// MailDir is the Maildir of user, which a test may fill before syncing
// (files it writes must be readable by the mail user; see Chown).
func (d *Dovecot) MailDir(user string) string {
	return filepath.Join(d.dir, "mail", user)
}

// Chown gives paths (recursively) to the user Dovecot's mail processes
// run as, after a test wrote into a Maildir directly.
func (d *Dovecot) Chown(t testing.TB, paths ...string) { d.chown(t, paths...) }

func (d *Dovecot) chown(t testing.TB, paths ...string) {
	t.Helper()
	if os.Getuid() != 0 {
		return
	}
	for _, p := range paths {
		err := filepath.Walk(p, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, d.uid, d.gid)
		})
		if err != nil {
			t.Fatalf("chown %s: %v", p, err)
		}
	}
}

// Stop stops Dovecot (tests of an unreachable server); Start brings it
// back on the same ports.
func (d *Dovecot) Stop() {
	if d.proc == nil {
		return
	}
	d.proc.Signal(os.Interrupt)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.proc.Kill()
		<-d.exited
	}
	d.proc = nil
}

// Restart starts a stopped Dovecot again on the same ports.
func (d *Dovecot) Restart(t testing.TB) {
	t.Helper()
	if err := d.run(t); err != nil {
		t.Fatalf("dovecot restart: %v", err)
	}
}

func (d *Dovecot) start(t testing.TB) error {
	ports := make([]string, 4)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ports[i] = ln.Addr().String()
		ln.Close()
	}
	d.IMAP, d.IMAPS, d.POP3, d.POP3S = ports[0], ports[1], ports[2], ports[3]
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	special := specialFolders
	if d.opts.NoSpecialFolders {
		special = ""
	}
	mechs, oauthPassdb, err := d.oauth2Conf()
	if err != nil {
		return err
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login%[9]s
mail_location = maildir:%[1]s/mail/%%u:LAYOUT=fs
mail_fsync = always
# NOTIFY (RFC 5465) works only with the mailbox list index (the default
# from Dovecot 2.4 on).
mailbox_list_index = yes
# IDLE and NOTIFY look for changes this often when inotify does not tell
# (30 s by default).
mailbox_idle_check_interval = 1 secs
namespace inbox {
  inbox = yes
  separator = /
%[8]s}
%[10]spassdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[2]d gid=%[3]d home=%[1]s/home/%%u
}
service imap-login {
  inet_listener imap {
    port = %[4]s
  }
  inet_listener imaps {
    port = %[5]s
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[6]s
  }
  inet_listener pop3s {
    port = %[7]s
    ssl = yes
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
`, d.dir, d.uid, d.gid, port(d.IMAP), port(d.IMAPS), port(d.POP3), port(d.POP3S), special, mechs, oauthPassdb)
	if err := os.WriteFile(filepath.Join(d.dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	return d.run(t)
}

// run starts the configured Dovecot and waits until its ports answer.
func (d *Dovecot) run(t testing.TB) error {
	cmd := exec.Command(d.bin, "-F", "-c", filepath.Join(d.dir, "dovecot.conf"))
	out, err := os.Create(filepath.Join(d.dir, "stdout.log"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	var werr error
	go func() { werr = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for _, addr := range []string{d.IMAP, d.IMAPS, d.POP3, d.POP3S} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				log, _ := os.ReadFile(filepath.Join(d.dir, "stdout.log"))
				return fmt.Errorf("dovecot exited (%v): %s", werr, log)
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				<-exited
				return fmt.Errorf("dovecot: %s did not answer", addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	d.proc, d.exited = cmd.Process, exited
	t.Cleanup(d.Stop)
	return nil
}

// Log returns what Dovecot logged so far (for a failing test's message).
func (d *Dovecot) Log(t testing.TB) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return string(b)
}

// TLSConfig returns a client configuration trusting the server.
func (d *Dovecot) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: d.Roots, ServerName: "127.0.0.1"}
}

// specialFolders are the folders every user gets, with their roles.
const specialFolders = `  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Archive {
    special_use = \Archive
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
`

// oauth2Conf writes dovecot-oauth2.conf.ext and the provider's CA file
// when the options ask for OAuth2 logins, and returns what goes into
// auth_mechanisms and the passdb section for them (both empty without).
// Dovecot 2.3's passdb oauth2 (src/auth/db-oauth2.c): introspection_mode
// post sends token=TOKEN, the URL's user information becomes HTTP Basic
// credentials, active_attribute refuses a token the provider calls
// inactive, username_attribute names the user.
func (d *Dovecot) oauth2Conf() (mechs, passdb string, err error) {
	o := d.opts.OAuth2
	if o == nil {
		return "", "", nil
	}
	ca := filepath.Join(d.dir, "idp-ca.pem")
	if err := os.WriteFile(ca, o.CAPEM, 0o644); err != nil {
		return "", "", err
	}
	u, err := url.Parse(o.IntrospectionURL)
	if err != nil {
		return "", "", fmt.Errorf("dovecot oauth2: %w", err)
	}
	if o.ClientID != "" {
		u.User = url.UserPassword(o.ClientID, o.ClientSecret)
	}
	conf := fmt.Sprintf(`introspection_url = %s
introspection_mode = post
username_attribute = email
active_attribute = active
active_value = true
tls_ca_cert_file = %s
timeout_msecs = 10000
`, u.String(), ca)
	ext := filepath.Join(d.dir, "dovecot-oauth2.conf.ext")
	if err := os.WriteFile(ext, []byte(conf), 0o644); err != nil {
		return "", "", err
	}
	mechs = o.Mechanisms
	if mechs == "" {
		mechs = "xoauth2 oauthbearer"
	}
	return " " + mechs, fmt.Sprintf(`passdb {
  driver = oauth2
  mechanisms = %s
  args = %s
}
`, mechs, ext), nil
}
