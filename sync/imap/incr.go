package imapsync

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The incremental pass without UID SEARCH ALL. On a CONDSTORE server
// (RFC 7162) the everyday sync of a mailbox needs the server's UID set
// only to find the messages expunged since the last pass; the new ones
// and the changed flags come from one
//
//	UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE) (CHANGEDSINCE m)
//
// where m is the HIGHESTMODSEQ the last pass saw at its SELECT. The search
// is left out when the counts prove that nothing below the last pass's
// UIDNEXT (u) was expunged since and that the store holds exactly the
// server's UIDs below u. The proof:
//
//   - Every message appended since that SELECT has a UID >= u and a
//     mod-sequence > m (RFC 7162 section 3.1: each change, creation
//     included, gets a mod-sequence higher than any before), so the fetch
//     returns every message of the mailbox with a UID >= u: the set A.
//     (A message below u whose flags changed is in the answer too, but
//     only those >= u are counted.)
//   - No UID below u can be assigned again (RFC 9051 section 2.3.1.1), so
//     the server's UIDs below u now are a subset of those below u at the
//     last pass, whose count n and digest the last pass saved (the key
//     ":uids"; uidProof).
//   - EXISTS - |A| is the count below u now. When it equals n, the subset
//     is the whole set: nothing below u was expunged. Counting only the
//     UIDs >= u is what makes this exact: an expunge of an old message
//     and an arrival keep EXISTS equal to the old count plus one arrival
//     less, and are caught.
//   - The store's remote UIDs below u (RemoteUIDs) have the saved count
//     and digest (SHA-256 of the sorted UIDs): they are the server's.
//     Otherwise (a message whose store failed, a local change the server
//     has not seen, an older state without the key) the search is made.
//   - The view must not change while this is worked out: an EXISTS or
//     EXPUNGE no command asked for, from SELECT to the end of the fetch
//     (conn.views), and the search is made. Without it an expunge
//     announced before the fetch would drop a message from A and make
//     the counts agree falsely.
//
// Then the server's UIDs are the store's below u plus A, exactly what
// the search would have said, and the sizes and dates the new messages
// are planned from come with A, so their separate fetch goes too: a
// folder costs SELECT, this fetch and the new bodies.

// uidProof is what a pass saves of the server's UIDs below its UIDNEXT:
// their count and digest (the key ":uids", "next:count:hex").
type uidProof struct {
	next  uint32
	count int
	sum   string
}

// makeProof returns the proof of the sorted uids below next.
func makeProof(uids []uint32, next uint32) uidProof {
	n, _ := slices.BinarySearch(uids, next)
	return uidProof{next: next, count: n, sum: uidDigest(uids[:n])}
}

// uidDigest is the hex SHA-256 of sorted UIDs, four octets each.
func uidDigest(uids []uint32) string {
	h := sha256.New()
	var b [4 * 1024]byte
	for len(uids) > 0 {
		k := min(len(uids), len(b)/4)
		for i, u := range uids[:k] {
			binary.BigEndian.PutUint32(b[4*i:], u)
		}
		h.Write(b[:4*k])
		uids = uids[k:]
	}
	return hex.EncodeToString(h.Sum(nil))
}

// String is the proof as saved.
func (p uidProof) String() string {
	if p.next == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(p.next), 10) + ":" + strconv.Itoa(p.count) + ":" + p.sum
}

// parseProof reads a saved proof; a value that does not parse is no
// proof (the search is made and a new one saved).
func parseProof(v string) uidProof {
	parts := strings.Split(v, ":")
	if len(parts) != 3 || len(parts[2]) != 2*sha256.Size {
		return uidProof{}
	}
	next, err1 := strconv.ParseUint(parts[0], 10, 32)
	n, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || n < 0 {
		return uidProof{}
	}
	return uidProof{next: uint32(next), count: n, sum: parts[2]}
}

// newMeta is what planNew needs of a new message.
type newMeta struct {
	size int64
	date time.Time
}

// changes is the answer of the CHANGEDSINCE fetch.
type changes struct {
	flags map[uint32][]string // every message in the answer
	meta  map[uint32]newMeta  // the same messages' sizes and dates
}

// changesStart sends UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)
// (CHANGEDSINCE since) (RFC 7162 section 3.1.4).
func (e *engine) changesStart(since uint64) *imapclient.FetchCommand {
	return e.c.c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}},
		&imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, InternalDate: true, ChangedSince: since})
}

// changesWait reads the answer of changesStart.
func (e *engine) changesWait(mb string, cmd *imapclient.FetchCommand) (changes, error) {
	ch := changes{flags: map[uint32][]string{}, meta: map[uint32]newMeta{}}
	err := e.readFetch(mb, "fetch changes", cmd, func(buf *imapclient.FetchMessageBuffer) {
		u := uint32(buf.UID)
		ch.flags[u] = cleanFlags(buf.Flags)
		ch.meta[u] = newMeta{buf.RFC822Size, buf.InternalDate}
	})
	return ch, err
}

// provedUIDs returns the server's UIDs when the proof above holds: known
// is the store's remote UIDs (ascending), exists the SELECT's count,
// changed the CHANGEDSINCE answer's UIDs, next the SELECT's UIDNEXT.
func provedUIDs(p uidProof, known []uint32, exists uint32, changed map[uint32][]string, next uint32) ([]uint32, bool) {
	if p.next == 0 {
		return nil, false
	}
	var above []uint32 // A: the UIDs >= p.next
	for u := range changed {
		if u >= p.next {
			if u >= next {
				return nil, false // not in the SELECT's view
			}
			above = append(above, u)
		}
	}
	if int64(exists)-int64(len(above)) != int64(p.count) {
		return nil, false
	}
	below, _ := slices.BinarySearch(known, p.next)
	if below != p.count || uidDigest(known[:below]) != p.sum {
		return nil, false
	}
	slices.Sort(above)
	out := make([]uint32, 0, below+len(above))
	return append(append(out, known[:below]...), above...), true
}
