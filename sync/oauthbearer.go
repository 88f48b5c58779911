package sync

import (
	"strconv"
	"strings"
)

// oauthBearerMessage is the client's OAUTHBEARER message (RFC 7628
// section 3.1):
//
//	gs2-header kvsep *kvpair kvsep, with
//	gs2-header = "n," "a=" saslname ","   (RFC 5801 section 4)
//	kvpair     = "host=" H kvsep / "port=" P kvsep / "auth=Bearer " token kvsep
//	kvsep      = %x01
//
// The user goes in the authorisation identity, as Gmail, Microsoft and
// Dovecot expect, with "," and "=" escaped as =2C and =3D (RFC 5801
// section 4, saslname).
func oauthBearerMessage(l OAuthLogin) []byte {
	var b strings.Builder
	b.WriteString("n,a=")
	b.WriteString(strings.NewReplacer("=", "=3D", ",", "=2C").Replace(l.User))
	b.WriteString(",\x01")
	if l.Host != "" {
		b.WriteString("host=" + l.Host + "\x01")
	}
	if l.Port > 0 {
		b.WriteString("port=" + strconv.Itoa(l.Port) + "\x01")
	}
	b.WriteString("auth=Bearer " + l.Token + "\x01\x01")
	return []byte(b.String())
}
