package accounts

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
)

// oauthEnv is letterbox serve in production mode for a.test (TLS for
// every login) whose [oauth2] checks tokens with a local identity
// provider's JWKS, and what the client needs to reach both: a CA bundle
// trusting the server and the provider (as tls_ca), a keyring that
// records every secret stored in it, a data directory.
type oauthEnv struct {
	srv     *server.Server
	idp     *testidp.IdP
	ca      string // PEM bundle: the server's certificate and the provider's
	dir     string
	kr      *recordingKeyring
	srvLogs *syncBuffer
	idpLogs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recordingKeyring is a fakeKeyring that remembers every value ever set
// (the refresh tokens, to look for in logs and files).
type recordingKeyring struct {
	fakeKeyring
	mu  sync.Mutex
	set []string
}

func (k *recordingKeyring) Set(service, user, password string) error {
	k.mu.Lock()
	k.set = append(k.set, password)
	k.mu.Unlock()
	return k.fakeKeyring.Set(service, user, password)
}

func (k *recordingKeyring) secrets() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.set...)
}

const oauthTestMessage = "From: carol@elsewhere.test\r\nTo: alice@a.test\r\nSubject: for the token holder\r\n\r\nhello\r\n"

// newOAuthEnv starts the provider (with opts; its user is alice@a.test
// unless set) and the server, mode "jwks" or "introspection".
func newOAuthEnv(t *testing.T, mode string, opts testidp.Options) *oauthEnv {
	t.Helper()
	e := &oauthEnv{dir: t.TempDir(), kr: &recordingKeyring{}, srvLogs: &syncBuffer{}, idpLogs: &syncBuffer{}}
	if opts.User.Email == "" {
		opts.User = testidp.User{Subject: "alice", Email: "alice@a.test"}
	}
	opts.Logf = func(format string, args ...any) {
		e.idpLogs.Write([]byte(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n"))
	}
	e.idp = testidp.New(t, opts)
	write := func(name string, b []byte) string {
		p := filepath.Join(e.dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	e.ca = write("ca-bundle.pem", append(append([]byte{}, certPEM...), e.idp.CertPEM()...))
	lo := "127.0.0.1:0"
	cfg := &server.Config{Hostname: "mx.a.test", Domains: []string{"a.test"}, Data: filepath.Join(e.dir, "server"),
		Listen: server.Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	cfg.TLS.Cert, cfg.TLS.Key = write("cert.pem", certPEM), write("key.pem", keyPEM)
	cfg.OAuth2 = server.OAuth2Config{Issuer: e.idp.Issuer(), Audience: testidp.DefaultAudience, Mode: mode,
		CAFile: write("idp.pem", e.idp.CertPEM())}
	if mode == "introspection" {
		cfg.OAuth2.ClientID = testidp.DefaultServerClientID
		cfg.OAuth2.ClientSecretFile = write("secret", []byte(testidp.DefaultServerClientSecret+"\n"))
	}
	cfg.Limits.AuthMaxDelay.Duration = time.Millisecond
	cfg.Limits.MaxAuthFailures = 1000
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.srvLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice@a.test", "bob@a.test"} {
		local, _, _ := strings.Cut(u, "@")
		if err := s.Backend.Users.Add(u, local+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	st, err := s.Backend.Store(context.Background(), "alice@a.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(context.Background(), "INBOX", strings.NewReader(oauthTestMessage), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	e.srv = s
	return e
}

// addOptions are AddOptions for an OAuth2 account of alice at the
// provider (custom: its endpoints), IMAPS and SMTPS, or POP3S with pop3.
func (e *oauthEnv) addOptions(name string, pop3 bool) AddOptions {
	o := AddOptions{ConfigPath: filepath.Join(e.dir, "config.toml"), DataDir: filepath.Join(e.dir, "data"),
		Name: name, Email: "alice@a.test", TLSCA: e.ca, Secrets: &Secrets{Keyring: e.kr}, Auth: AuthOAuth2,
		OAuth2: OAuth2Settings{OAuth2Provider: ProviderCustom, OAuth2ClientID: testidp.DefaultClientID,
			OAuth2AuthURL: e.idp.AuthURL(), OAuth2TokenURL: e.idp.TokenURL(), OAuth2DeviceURL: e.idp.DeviceURL(),
			OAuth2Scopes: strings.Fields(testidp.DefaultScope)},
		SMTP: e.srv.Addr("smtps").String(), Security: SecurityTLS, SMTPSecurity: SecurityTLS}
	if pop3 {
		o.Mode, o.POP3 = ModePOP3, e.srv.Addr("pop3s").String()
	} else {
		o.IMAP = e.srv.Addr("imaps").String()
	}
	return o
}

// approveNext approves the next device code the provider hands out, as
// a person would on another device; the returned channel gives the
// error, if any.
func (e *oauthEnv) approveNext(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		code, err := e.idp.WaitUserCode(ctx)
		if err == nil {
			err = e.idp.Approve(code)
		}
		done <- err
	}()
	return done
}

// noTokenLeaked fails when any token the keyring got or the sources held
// appears in the server's or the provider's log, in config.toml or in
// the given outputs.
func (e *oauthEnv) noTokenLeaked(t *testing.T, tokens []string, outputs ...string) {
	t.Helper()
	tokens = append(tokens, e.kr.secrets()...)
	cfg, _ := os.ReadFile(filepath.Join(e.dir, "config.toml"))
	places := map[string]string{"server log": e.srvLogs.String(), "provider log": e.idpLogs.String(), "config.toml": string(cfg)}
	for i, o := range outputs {
		places[fmt.Sprintf("output %d", i)] = o
	}
	for _, tok := range tokens {
		if len(tok) < 8 {
			continue
		}
		for where, text := range places {
			if strings.Contains(text, tok) {
				t.Errorf("a token (%.8s…) is in the %s", tok, where)
			}
		}
	}
}
