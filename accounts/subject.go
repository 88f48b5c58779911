package accounts

import "github.com/letterbox-mail/letterbox/store/mime"

// NormalizeSubject returns a subject without its reply and forward
// prefixes ("Re:", "AW:", "Fwd:") and list tags ("[team]"), white space
// collapsed, lower-cased: the rule the store threads by, for an
// interface that shows a thread's subject only where it changes.
func NormalizeSubject(s string) string { return mime.NormalizeSubject(s) }
