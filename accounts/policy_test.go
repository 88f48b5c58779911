package accounts

import (
	"strings"
	"testing"
)

func TestParsePOP3Policy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr string
	}{
		{"", Policy{Kind: PolicyKeep}, ""},
		{"keep", Policy{Kind: PolicyKeep}, ""},
		{"delete", Policy{Kind: PolicyDelete}, ""},
		{"keep-days:1", Policy{Kind: PolicyKeepDays, Days: 1}, ""},
		{"keep-days:30", Policy{Kind: PolicyKeepDays, Days: 30}, ""},
		{"keep-days:0", Policy{}, "number of days"},
		{"keep-days:-3", Policy{}, "number of days"},
		{"keep-days:", Policy{}, "number of days"},
		{"keep-days:1e3", Policy{}, "number of days"},
		{"keep-days:99999999999999999999", Policy{}, "number of days"},
		{"keep-days", Policy{}, "want"},
		{"Keep", Policy{}, "want"},
		{"remove", Policy{}, `pop3_policy "remove"`},
	}
	for _, tt := range tests {
		got, err := ParsePOP3Policy(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePOP3Policy(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePOP3Policy(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if back, err := ParsePOP3Policy(got.String()); err != nil || back != got {
			t.Errorf("String %q does not parse back: %+v, %v", got, back, err)
		}
	}
}

func TestParseBodyPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    BodyPolicy
		wantErr string
	}{
		{"", BodyPolicy{Kind: BodyAll}, ""},
		{"all", BodyPolicy{Kind: BodyAll}, ""},
		{"on-open", BodyPolicy{Kind: BodyOnOpen}, ""},
		{"days:7", BodyPolicy{Kind: BodyDays, Days: 7}, ""},
		{"days:0", BodyPolicy{}, "number of days"},
		{"days:x", BodyPolicy{}, "number of days"},
		{"days", BodyPolicy{}, "want"},
		{"none", BodyPolicy{}, `sync_window "none"`},
	}
	for _, tt := range tests {
		got, err := ParseBodyPolicy(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseBodyPolicy(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseBodyPolicy(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if back, err := ParseBodyPolicy(got.String()); err != nil || back != got {
			t.Errorf("String %q does not parse back: %+v, %v", got, back, err)
		}
	}
}

func TestServerDefaults(t *testing.T) {
	tests := []struct {
		proto Protocol
		in    ServerConfig
		want  ServerConfig
	}{
		{IMAP, ServerConfig{Host: "h"}, ServerConfig{"h", 993, SecurityTLS}},
		{IMAP, ServerConfig{Host: "h", Security: SecurityStartTLS}, ServerConfig{"h", 143, SecurityStartTLS}},
		{POP3, ServerConfig{Host: "h"}, ServerConfig{"h", 995, SecurityTLS}},
		{POP3, ServerConfig{Host: "h", Security: SecurityNone}, ServerConfig{"h", 110, SecurityNone}},
		{SMTP, ServerConfig{Host: "h"}, ServerConfig{"h", 465, SecurityTLS}},
		{SMTP, ServerConfig{Host: "h", Security: SecurityStartTLS}, ServerConfig{"h", 587, SecurityStartTLS}},
		{SMTP, ServerConfig{Host: "h", Port: 2525}, ServerConfig{"h", 2525, SecurityTLS}},
	}
	for _, tt := range tests {
		if got := tt.in.WithDefaults(tt.proto); got != tt.want {
			t.Errorf("%+v.WithDefaults(%s) = %+v, want %+v", tt.in, tt.proto, got, tt.want)
		}
	}
}
