package accounts

import (
	"reflect"
	"strings"
	"testing"
)

// thunderbirdISPDB is shaped like the documents of Thunderbird's ISP
// database and of providers' autoconfig hosts.
const thunderbirdISPDB = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.example.com</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.com</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.%EMAILDOMAIN%</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>outlook.example.com</hostname>
      <port>443</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>25</port>
      <socketType>plain</socketType>
    </outgoingServer>
  </emailProvider>
</clientConfig>`

func TestParseAutoconfig(t *testing.T) {
	const src = "autoconfig test"
	got, err := ParseAutoconfig([]byte(thunderbirdISPDB), "ann@example.com", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []Candidate{
		{IMAP, "imap.example.com", 993, SecurityTLS, "ann@example.com", src, false},
		{IMAP, "imap.example.com", 143, SecurityStartTLS, "ann", src, false},
		{POP3, "pop.example.com", 995, SecurityTLS, "ann", src, false},
		{SMTP, "smtp.example.com", 587, SecurityStartTLS, "ann@example.com", src, false},
		{SMTP, "smtp.example.com", 25, SecurityNone, "", src, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

func TestParseAutoconfigErrors(t *testing.T) {
	server := func(typ, host, port, socket string) string {
		return `<clientConfig><emailProvider><incomingServer type="` + typ + `"><hostname>` + host +
			`</hostname><port>` + port + `</port><socketType>` + socket + `</socketType></incomingServer></emailProvider></clientConfig>`
	}
	tests := []struct{ name, doc, want string }{
		{"not xml", "<html><body>404", "autoconfig"},
		{"other root", "<html></html>", "clientConfig"},
		{"empty", "<clientConfig><emailProvider/></clientConfig>", "no incoming or outgoing server"},
		{"only exchange", server("exchange", "h", "443", "SSL"), `server type "exchange"`},
		{"bad port", server("imap", "h", "99999", "SSL"), `port "99999"`},
		{"no port", server("imap", "h", "", "SSL"), `port ""`},
		{"bad host", server("imap", "h/evil", "993", "SSL"), `hostname "h/evil"`},
		{"host injection", server("imap", "%EMAILLOCALPART%", "993", "SSL"), "not a host name"},
		{"bad socket", server("imap", "h", "993", "QUIC"), `socketType "QUIC"`},
		{"huge", strings.Repeat(" ", maxAutoconfigSize+1), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The local part has characters that are no host name.
			got, err := ParseAutoconfig([]byte(tt.doc), "a b@example.com", "test")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseAutoconfig = %v, %v; want an error with %q", got, err, tt.want)
			}
		})
	}
}

// FuzzAutoconfig checks that any document either fails cleanly or yields
// only candidates that are safe to dial and to put in the config.
func FuzzAutoconfig(f *testing.F) {
	f.Add([]byte(thunderbirdISPDB), "ann@example.com")
	f.Add([]byte(`<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>%EMAILDOMAIN%</hostname>`+
		`<port>465</port><socketType>SSL</socketType><username>%EMAILLOCALPART%</username></outgoingServer>`+
		`</emailProvider></clientConfig>`), "x@y.org")
	f.Add([]byte(`<clientConfig><emailProvider><incomingServer type="pop3"><hostname>p.&#x0a;</hostname>`+
		`<port> 110 </port><socketType>plain</socketType></incomingServer></emailProvider></clientConfig>`), "a@b")
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e "imap.example.com">]><clientConfig/>`), "a@b")
	f.Fuzz(func(t *testing.T, doc []byte, email string) {
		cands, err := ParseAutoconfig(doc, email, "fuzz")
		if err != nil {
			if len(cands) != 0 {
				t.Fatalf("error %v with %d candidates", err, len(cands))
			}
			return
		}
		if len(cands) == 0 {
			t.Fatal("no error and no candidates")
		}
		for _, c := range cands {
			switch {
			case c.Protocol != IMAP && c.Protocol != POP3 && c.Protocol != SMTP:
				t.Fatalf("protocol %q", c.Protocol)
			case !validHost(c.Host):
				t.Fatalf("host %q", c.Host)
			case c.Port < 1 || c.Port > 65535:
				t.Fatalf("port %d", c.Port)
			case c.Security != SecurityTLS && c.Security != SecurityStartTLS && c.Security != SecurityNone:
				t.Fatalf("security %q", c.Security)
			case hasControl(c.Username):
				t.Fatalf("username %q", c.Username)
			}
			srv := ServerConfig{Host: c.Host, Port: c.Port, Security: c.Security}
			if err := srv.validate(); err != nil {
				t.Fatalf("candidate %v does not validate: %v", c, err)
			}
		}
	})
}
