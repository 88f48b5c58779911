package backend

import (
	"bytes"
	"errors"
)

// ParseXOAuth2 parses the client's XOAUTH2 message, Google's format
// (https://developers.google.com/gmail/imap/xoauth2-protocol), which
// Microsoft's servers speak too:
//
//	"user=" address %x01 "auth=Bearer " token %x01 %x01
//
// It is OAUTHBEARER's key-value list without the gs2 header, the user
// given as "user" and required. XOAUTH2 is a few lines over the
// OAUTHBEARER parser; it lives in its own file to keep the formats apart.
func ParseXOAuth2(msg []byte) (OAuthCredentials, error) {
	var c OAuthCredentials
	if len(msg) > maxSASLMessage {
		return c, errors.New("message too long")
	}
	user, rest, ok := bytes.Cut(msg, []byte{1})
	name, isUser := bytes.CutPrefix(user, []byte("user="))
	if !ok || !isUser || len(name) == 0 {
		return c, errors.New("no user")
	}
	for _, ch := range name {
		if ch <= ' ' || ch >= 0x7f {
			return c, errors.New("bad character in the user")
		}
	}
	pairs, ok := bytes.CutSuffix(rest, []byte{1})
	if !ok {
		return c, errors.New("not ended by \\x01\\x01")
	}
	if err := parseKVPairs(pairs, &c); err != nil {
		return c, err
	}
	c.Authzid = string(name)
	return c, nil
}
