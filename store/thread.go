package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// subjectWindow is how far apart (seconds) two messages with the same
// normalised subject and no references may be to share a thread.
const subjectWindow = 60 * 24 * 3600

// assignThread finds or creates the thread of a message: by the Message-IDs
// it has or references (In-Reply-To, References), merging threads that the
// message joins; failing that, for a reply without references, by its
// normalised subject among recent threads. Every id is recorded so a parent
// that arrives after its reply joins the same thread.
func assignThread(ctx context.Context, tx sqlTx, env mime.Envelope, date int64) (int64, error) {
	ids := threadIDs(env)
	found := map[int64]bool{}
	known := make([]bool, len(ids)) // ids recorded already
	var threadID int64
	for i, mid := range ids {
		var t int64
		err := tx.QueryRowContext(ctx, qThreadOfRef, mid).Scan(&t)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return 0, err
		}
		known[i] = true
		found[t] = true
		if threadID == 0 || t < threadID {
			threadID = t
		}
	}
	subj := mime.NormalizeSubject(env.Subject)
	if threadID == 0 && subj != "" && isReplySubject(env.Subject, subj) {
		err := tx.QueryRowContext(ctx, qThreadBySubject,
			subj, date-subjectWindow, date+subjectWindow).Scan(&threadID)
		if err != nil && err != sql.ErrNoRows {
			return 0, err
		}
	}
	if threadID == 0 {
		res, err := tx.ExecContext(ctx, qInsertThread, subj, date)
		if err != nil {
			return 0, err
		}
		if threadID, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	} else if _, err := tx.ExecContext(ctx, qTouchThread, date, threadID); err != nil {
		return 0, err
	}
	for other := range found {
		if other == threadID {
			continue
		}
		if err := mergeThread(ctx, tx, other, threadID); err != nil {
			return 0, fmt.Errorf("merge threads: %w", err)
		}
	}
	// An id recorded already is in threadID now (it was, or its thread
	// was merged into it): only new ones are written, which in a sync
	// of whole threads halves the statements per reply.
	for i, mid := range ids {
		if known[i] {
			continue
		}
		if _, err := tx.ExecContext(ctx, qUpsertThreadRef, mid, threadID); err != nil {
			return 0, err
		}
	}
	return threadID, nil
}

func mergeThread(ctx context.Context, tx sqlTx, from, into int64) error {
	for _, q := range []string{
		"UPDATE messages SET thread_id = ?2 WHERE thread_id = ?1",
		"UPDATE thread_refs SET thread_id = ?2 WHERE thread_id = ?1",
		"UPDATE threads SET last_date = MAX(last_date, (SELECT last_date FROM threads WHERE id = ?1)) WHERE id = ?2",
		"DELETE FROM threads WHERE id = ?1",
	} {
		if _, err := tx.ExecContext(ctx, q, from, into); err != nil {
			return err
		}
	}
	return nil
}

// threadIDs lists the message's own and referenced ids, deduplicated,
// capped so a hostile References header cannot make append slow.
func threadIDs(env mime.Envelope) []string {
	const maxIDs = 100
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id == "" || len(id) > 500 || seen[id] || len(out) >= maxIDs {
			return
		}
		seen[id] = true
		out = append(out, id)
	}
	add(env.MessageID)
	for _, id := range env.InReplyTo {
		add(id)
	}
	refs := env.References
	if len(refs) > maxIDs-2 {
		refs = refs[len(refs)-(maxIDs-2):]
	}
	for _, id := range refs {
		add(id)
	}
	return out
}

// isReplySubject reports whether the raw subject carried a reply or
// forward prefix that NormalizeSubject removed.
func isReplySubject(raw, normalized string) bool {
	return strings.ToLower(strings.TrimSpace(raw)) != normalized
}

// Thread returns the messages of a thread in date order, across mailboxes.
func (s *Store) Thread(ctx context.Context, threadID int64) ([]Message, error) {
	msgs, err := s.queryMessages(ctx, "WHERE m.thread_id = ? ORDER BY m.date, m.id", threadID)
	if err != nil {
		return nil, fmt.Errorf("thread %d: %w", threadID, err)
	}
	threadDepths(msgs)
	return msgs, nil
}
