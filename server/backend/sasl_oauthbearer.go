package backend

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxSASLMessage bounds an OAUTHBEARER or XOAUTH2 message: tokens are a
// few kilobytes at most.
const maxSASLMessage = 64 << 10

// ParseOAuthBearer parses the client's OAUTHBEARER message (RFC 7628
// section 3.1):
//
//	client-resp = (gs2-header kvsep *kvpair kvsep) / kvsep
//	gs2-header  = gs2-cb-flag "," [ "a=" saslname ] ","   (RFC 5801)
//	kvpair      = key "=" value kvsep
//	key         = 1*ALPHA
//	value       = *(VCHAR / SP / HTAB / CR / LF)
//	auth-value  = "Bearer" 1*SP b64token                  (RFC 6750)
//
// The "auth" pair is required; "host" and "port" are read; other keys
// are extensions and ignored. Channel binding ("p=") is not supported.
// The lone kvsep is the dummy response after an error, not a login: it
// is an error here.
func ParseOAuthBearer(msg []byte) (OAuthCredentials, error) {
	var c OAuthCredentials
	if len(msg) > maxSASLMessage {
		return c, errors.New("message too long")
	}
	flag, rest, ok := bytes.Cut(msg, []byte{','})
	if !ok {
		return c, errors.New("no gs2 header")
	}
	switch {
	case string(flag) == "n", string(flag) == "y":
	case bytes.HasPrefix(flag, []byte("p=")):
		return c, errors.New("channel binding is not supported")
	default:
		return c, errors.New("bad gs2-cb-flag")
	}
	authz, rest, ok := bytes.Cut(rest, []byte{','})
	if !ok {
		return c, errors.New("gs2 header not ended")
	}
	if len(authz) > 0 {
		name, ok := bytes.CutPrefix(authz, []byte("a="))
		if !ok {
			return c, errors.New("bad gs2-authzid")
		}
		s, err := saslname(name)
		if err != nil {
			return c, err
		}
		c.Authzid = s
	}
	pairs, ok := bytes.CutPrefix(rest, []byte{1})
	if !ok {
		return c, errors.New("no kvsep after the gs2 header")
	}
	pairs, ok = bytes.CutSuffix(pairs, []byte{1})
	if !ok {
		return c, errors.New("not ended by kvsep")
	}
	if err := parseKVPairs(pairs, &c); err != nil {
		return c, err
	}
	return c, nil
}

// parseKVPairs reads "key=value\x01" pairs into c; it requires exactly
// one auth pair.
func parseKVPairs(pairs []byte, c *OAuthCredentials) error {
	haveAuth := false
	for len(pairs) > 0 {
		kv, rest, ok := bytes.Cut(pairs, []byte{1})
		if !ok {
			return errors.New("key-value pair not ended by kvsep")
		}
		pairs = rest
		key, value, ok := bytes.Cut(kv, []byte{'='})
		if !ok || len(key) == 0 {
			return errors.New("key-value pair without key")
		}
		for _, ch := range key {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
				return errors.New("key is not alphabetic")
			}
		}
		for _, ch := range value {
			if ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n' || ch >= 0x7f {
				return errors.New("bad character in a value")
			}
		}
		switch string(key) {
		case "auth":
			if haveAuth {
				return errors.New("two auth pairs")
			}
			tok, err := bearer(string(value))
			if err != nil {
				return err
			}
			c.Token, haveAuth = tok, true
		case "host":
			c.Host = string(value)
		case "port":
			p, err := strconv.ParseUint(string(value), 10, 16)
			if err != nil {
				return errors.New("bad port")
			}
			c.Port = int(p)
		}
	}
	if !haveAuth {
		return errors.New("no auth pair")
	}
	return nil
}

// bearer takes the token out of an auth-value: "Bearer" (any case, RFC
// 7235 section 2.1), one or more spaces, then a b64token (RFC 6750
// section 2.1).
func bearer(v string) (string, error) {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", errors.New("not a Bearer token")
	}
	tok = strings.TrimLeft(tok, " ")
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return "", errors.New("empty token")
	}
	for i := 0; i < len(body); i++ {
		ch := body[i]
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '+' || ch == '/'
		if !ok {
			return "", fmt.Errorf("bad character in the token at %d", i)
		}
	}
	return tok, nil
}

// saslname decodes RFC 5801's saslname: "=2C" is a comma, "=3D" an equals
// sign, and no other "=" may appear.
func saslname(b []byte) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] < 0x20 || b[i] == 0x7f {
			return "", errors.New("control character in gs2-authzid")
		}
		if b[i] != '=' {
			sb.WriteByte(b[i])
			continue
		}
		if i+2 >= len(b) {
			return "", errors.New("bad escape in gs2-authzid")
		}
		switch string(b[i+1 : i+3]) {
		case "2C", "2c":
			sb.WriteByte(',')
		case "3D", "3d":
			sb.WriteByte('=')
		default:
			return "", errors.New("bad escape in gs2-authzid")
		}
		i += 2
	}
	return sb.String(), nil
}
