package ui

import (
	"strings"

	"github.com/letterbox-mail/letterbox/accounts"
)

// The thread tree of the threaded list, drawn as mutt draws it:
//
//	Plans for Q3
//	├─
//	│ └─
//	│   └─ Budget numbers
//	└─
//
// The store lists each thread's messages parent before child with their
// depth (accounts.Message.Depth); the lines are worked out over the
// window of loaded rows, so a thread that goes on past the window's end
// (40 rows below the screen at least) may end in └ where it continues.

// treeCell is how one row of the window shows its place in its thread.
type treeCell struct {
	prefix      string // "│ └─ "
	showSubject bool   // the subject differs from its parent's
}

// maxTreeDepth caps the levels drawn, so deep threads keep room for the
// subject.
const maxTreeDepth = 8

// threadTree returns the tree cells of msgs, a window of a threaded
// listing.
func threadTree(msgs []accounts.Message) []treeCell {
	out := make([]treeCell, len(msgs))
	// Backwards: later[k] says a later row of the same thread sits at
	// depth k with no shallower row between, so depth k's line goes on.
	var later []bool
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if i == len(msgs)-1 || msgs[i+1].ThreadID != m.ThreadID {
			later = later[:0]
		}
		d := min(m.Depth, maxTreeDepth)
		for len(later) <= d {
			later = append(later, false)
		}
		if d > 0 {
			var b strings.Builder
			for k := 1; k < d; k++ {
				if later[k] {
					b.WriteString("│ ")
				} else {
					b.WriteString("  ")
				}
			}
			if later[d] {
				b.WriteString("├─ ")
			} else {
				b.WriteString("└─ ")
			}
			out[i].prefix = b.String()
		}
		later[d] = true
		for k := d + 1; k < len(later); k++ {
			later[k] = false
		}
	}
	// Forwards: a subject shows where it differs from the parent's (the
	// nearest row above one level up), and always on a thread's first row.
	var subj []string // normalised subject per depth, this thread
	for i, m := range msgs {
		if i == 0 || msgs[i-1].ThreadID != m.ThreadID {
			subj = subj[:0]
		}
		d := min(m.Depth, maxTreeDepth)
		norm := accounts.NormalizeSubject(m.Subject)
		out[i].showSubject = d == 0 || d > len(subj) || subj[d-1] != norm
		subj = append(subj[:min(d, len(subj))], norm)
	}
	return out
}
