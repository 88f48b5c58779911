package sync

// xoauth2Message is the client's XOAUTH2 message, Google's format
// (developers.google.com/gmail/imap/xoauth2-protocol), which Microsoft's
// servers take too:
//
//	"user=" user %x01 "auth=Bearer " token %x01 %x01
//
// XOAUTH2 has no gs2 header, host or port; its error challenge is
// answered with an empty response (OAuthClient.Next).
func xoauth2Message(l OAuthLogin) []byte {
	return []byte("user=" + l.User + "\x01auth=Bearer " + l.Token + "\x01\x01")
}
