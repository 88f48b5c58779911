package mime

// mimeKey returns the field name k as a string without allocating when it
// is spelled exactly as one of the common names: those of the envelope and
// of MIME, and those a relay or a mailing list adds to every message. A
// switch on string(k) compares without converting.
func mimeKey(k []byte) string {
	switch string(k) {
	case "Received":
		return "Received"
	case "Date":
		return "Date"
	case "From":
		return "From"
	case "To":
		return "To"
	case "Cc":
		return "Cc"
	case "Subject":
		return "Subject"
	case "Message-ID":
		return "Message-ID"
	case "Message-Id":
		return "Message-Id"
	case "In-Reply-To":
		return "In-Reply-To"
	case "References":
		return "References"
	case "Reply-To":
		return "Reply-To"
	case "Sender":
		return "Sender"
	case "MIME-Version":
		return "MIME-Version"
	case "Mime-Version":
		return "Mime-Version"
	case "Content-Type":
		return "Content-Type"
	case "Content-Transfer-Encoding":
		return "Content-Transfer-Encoding"
	case "Content-Disposition":
		return "Content-Disposition"
	case "Content-ID":
		return "Content-ID"
	case "Return-Path":
		return "Return-Path"
	case "Delivered-To":
		return "Delivered-To"
	case "List-Id":
		return "List-Id"
	case "List-Unsubscribe":
		return "List-Unsubscribe"
	case "List-Post":
		return "List-Post"
	case "List-Help":
		return "List-Help"
	case "List-Archive":
		return "List-Archive"
	case "Precedence":
		return "Precedence"
	case "X-Mailer":
		return "X-Mailer"
	case "User-Agent":
		return "User-Agent"
	case "DKIM-Signature":
		return "DKIM-Signature"
	case "Authentication-Results":
		return "Authentication-Results"
	case "ARC-Seal":
		return "ARC-Seal"
	case "ARC-Message-Signature":
		return "ARC-Message-Signature"
	case "ARC-Authentication-Results":
		return "ARC-Authentication-Results"
	case "Received-SPF":
		return "Received-SPF"
	case "Return-Receipt-To":
		return "Return-Receipt-To"
	case "Thread-Topic":
		return "Thread-Topic"
	case "Thread-Index":
		return "Thread-Index"
	case "Content-Language":
		return "Content-Language"
	case "X-Originating-IP":
		return "X-Originating-IP"
	}
	return string(k)
}

// mimeIndexField reports the fields Parse reads (mimeEnvelope and
// newMimePart), in any case; the walker of Parse keeps no others.
func mimeIndexField(k []byte) bool {
	for _, f := range [...]string{"Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "In-Reply-To",
		"References", "Message-Id", "Date", "Content-Type", "Content-Disposition", "Content-Transfer-Encoding"} {
		if mimeEqualFold(k, f) {
			return true
		}
	}
	return false
}

// mimeEqualFold is strings.EqualFold for an ASCII name s.
func mimeEqualFold(k []byte, s string) bool {
	if len(k) != len(s) {
		return false
	}
	for i := range k {
		a, b := k[i], s[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
