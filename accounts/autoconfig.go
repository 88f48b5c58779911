package accounts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Candidate is a server that discovery found for an address: where it
// came from and what is known about it. Probe confirms it.
type Candidate struct {
	// Protocol is what the server is said to speak.
	Protocol Protocol
	// Host is its DNS name or IP address.
	Host string
	// Port is 0 when unknown: Probe then tries the protocol's ports.
	Port int
	// Security is "" when unknown: Probe then infers it from the port.
	Security Security
	// Username is the login the source gave, or "".
	Username string
	// Source says where the candidate came from, for the log and the
	// user: "autoconfig URL", "SRV _imaps._tcp.example.com" or "guess".
	Source string
	// OAuth2 is set when the source says the server signs in with
	// OAuth2 (autoconfig <authentication>OAuth2</authentication>).
	OAuth2 bool
}

// String returns "imap imap.example.com:993 (tls, from SOURCE)".
func (c Candidate) String() string {
	port, sec := "?", string(c.Security)
	if c.Port != 0 {
		port = strconv.Itoa(c.Port)
	}
	if sec == "" {
		sec = "security unknown"
	}
	return fmt.Sprintf("%s %s (%s, from %s)", c.Protocol, net.JoinHostPort(c.Host, port), sec, c.Source)
}

// autoconfigXML is the part of Mozilla's autoconfig format (config-v1.1)
// that letterbox uses.
type autoconfigXML struct {
	XMLName  xml.Name `xml:"clientConfig"`
	Provider struct {
		Incoming []autoconfigServer `xml:"incomingServer"`
		Outgoing []autoconfigServer `xml:"outgoingServer"`
	} `xml:"emailProvider"`
}

type autoconfigServer struct {
	Type       string `xml:"type,attr"`
	Hostname   string `xml:"hostname"`
	Port       string `xml:"port"`
	SocketType string `xml:"socketType"`
	Username   string `xml:"username"`
	// Authentication lists the sign-in methods (password-cleartext,
	// OAuth2, ...), in the provider's order of preference.
	Authentication []string `xml:"authentication"`
}

// oauth2 reports whether the server lists OAuth2 among its methods.
func (s autoconfigServer) oauth2() bool {
	for _, a := range s.Authentication {
		if strings.EqualFold(strings.TrimSpace(a), "OAuth2") {
			return true
		}
	}
	return false
}

// autoconfigAuth reports whether an autoconfig document says an
// incoming server signs in with OAuth2.
func autoconfigAuth(data []byte) (bool, error) {
	if len(data) > maxAutoconfigSize {
		return false, fmt.Errorf("autoconfig: document larger than %d bytes", maxAutoconfigSize)
	}
	var doc autoconfigXML
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		return false, fmt.Errorf("autoconfig: %w", err)
	}
	for _, s := range doc.Provider.Incoming {
		if s.oauth2() {
			return true, nil
		}
	}
	return false, nil
}

// maxAutoconfigSize bounds an autoconfig document.
const maxAutoconfigSize = 1 << 20

// ParseAutoconfig parses a Mozilla autoconfig document (config-v1.1.xml)
// into candidates, in document order (the provider's preference). The
// placeholders %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% in host
// names and user names are replaced from email. Servers of other types
// (exchange, jmap, …), with unknown socket types or with malformed hosts
// or ports are skipped; a document with no usable server is an error.
func ParseAutoconfig(data []byte, email string, source string) ([]Candidate, error) {
	if len(data) > maxAutoconfigSize {
		return nil, fmt.Errorf("autoconfig: document larger than %d bytes", maxAutoconfigSize)
	}
	var doc autoconfigXML
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("autoconfig: %w", err)
	}
	local, domain, _ := strings.Cut(email, "@")
	subst := strings.NewReplacer("%EMAILADDRESS%", email, "%EMAILLOCALPART%", local, "%EMAILDOMAIN%", domain)
	var out []Candidate
	var skipped []string
	add := func(s autoconfigServer, outgoing bool) {
		c, err := s.candidate(subst, outgoing, source)
		if err != nil {
			skipped = append(skipped, err.Error())
			return
		}
		out = append(out, c)
	}
	for _, s := range doc.Provider.Incoming {
		add(s, false)
	}
	for _, s := range doc.Provider.Outgoing {
		add(s, true)
	}
	if len(out) == 0 {
		if len(skipped) > 0 {
			return nil, fmt.Errorf("autoconfig: no usable server: %s", strings.Join(skipped, "; "))
		}
		return nil, errors.New("autoconfig: no incoming or outgoing server")
	}
	return out, nil
}

// candidate converts one server element.
func (s autoconfigServer) candidate(subst *strings.Replacer, outgoing bool, source string) (Candidate, error) {
	c := Candidate{Source: source}
	typ := strings.ToLower(strings.TrimSpace(s.Type))
	switch {
	case outgoing && typ == "smtp":
		c.Protocol = SMTP
	case !outgoing && typ == "imap":
		c.Protocol = IMAP
	case !outgoing && typ == "pop3":
		c.Protocol = POP3
	default:
		return c, fmt.Errorf("server type %q is not supported", s.Type)
	}
	c.Host = strings.TrimSuffix(strings.TrimSpace(subst.Replace(s.Hostname)), ".")
	if !validHost(c.Host) {
		return c, fmt.Errorf("%s hostname %q is not a host name", c.Protocol, s.Hostname)
	}
	port, err := strconv.Atoi(strings.TrimSpace(s.Port))
	if err != nil || port < 1 || port > 65535 {
		return c, fmt.Errorf("%s %s: port %q is not a TCP port", c.Protocol, c.Host, s.Port)
	}
	c.Port = port
	switch strings.ToUpper(strings.TrimSpace(s.SocketType)) {
	case "SSL", "TLS":
		c.Security = SecurityTLS
	case "STARTTLS":
		c.Security = SecurityStartTLS
	case "PLAIN":
		c.Security = SecurityNone
	default:
		return c, fmt.Errorf("%s %s: socketType %q is not SSL, STARTTLS or plain", c.Protocol, c.Host, s.SocketType)
	}
	c.OAuth2 = s.oauth2()
	c.Username = strings.TrimSpace(subst.Replace(s.Username))
	if hasControl(c.Username) {
		c.Username = ""
	}
	return c, nil
}
