package store

import (
	"context"
	"errors"
	"fmt"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// BatchSize is how many messages share one fsync of the directory
	// and one transaction; 256 when zero.
	BatchSize int
	// Progress, when set, is called after each batch with the number of
	// messages done so far.
	Progress func(done int)
	// Committed, when set, is called after each batch is durable, with
	// the origin (SourceMessage.Origin) and result of each message in it.
	Committed func(origins []string, results []AppendResult)
}

// ImportStats summarise an import.
type ImportStats struct {
	Imported  int
	Mailboxes int
	Bytes     int64
	// Failed lists the messages that could not be stored, with why.
	Failed []string
}

// Import copies the messages of Maildirs and mbox files (see WalkSources)
// into the store, creating mailboxes as needed. Messages are written in
// batches; when Import returns, or a batch is reported through Committed,
// those messages are durable. An empty file is not a message and is listed
// in Failed; everything else is stored, parsed as well as it can be.
func (s *Store) Import(ctx context.Context, paths []string, opts ImportOptions) (*ImportStats, error) {
	batch := opts.BatchSize
	if batch <= 0 {
		batch = 256
	}
	st := &ImportStats{}
	created := map[string]bool{}
	var cur string
	var items []AppendItem
	var origins []string
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		res, err := s.AppendMany(ctx, cur, items)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				st.Failed = append(st.Failed, fmt.Sprintf("%s: %v", origins[i], r.Err))
				continue
			}
			st.Imported++
			st.Bytes += r.Size
		}
		if opts.Committed != nil {
			opts.Committed(origins, res)
		}
		if opts.Progress != nil {
			opts.Progress(st.Imported + len(st.Failed))
		}
		items, origins = items[:0], origins[:0]
		return nil
	}
	err := WalkSources(ctx, paths, func(m SourceMessage) error {
		name, err := CanonicalName(m.Mailbox)
		if err != nil {
			st.Failed = append(st.Failed, fmt.Sprintf("%s: %v", m.Origin, err))
			return nil
		}
		if m.Size == 0 {
			st.Failed = append(st.Failed, m.Origin+": empty file, not a message")
			return nil
		}
		if name != cur || len(items) >= batch {
			if err := flush(); err != nil {
				return err
			}
			cur = name
		}
		if !created[name] {
			created[name] = true
			if _, err := s.CreateMailbox(ctx, name, specialUseFor(name)); err != nil && !errors.Is(err, ErrExists) {
				return err
			}
			st.Mailboxes++
		}
		items = append(items, AppendItem{Open: m.Open, Flags: m.Flags, InternalDate: m.InternalDate})
		origins = append(origins, m.Origin)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return st, fmt.Errorf("import: %w", err)
	}
	return st, nil
}

// specialUseFor guesses the special-use attribute of well-known folder
// names of imported trees.
func specialUseFor(name string) string {
	switch name {
	case "Sent", "Sent Messages", "Sent Items", "sent-mail":
		return SpecialSent
	case "Drafts", "drafts":
		return SpecialDrafts
	case "Trash", "Deleted Messages", "Deleted Items":
		return SpecialTrash
	case "Junk", "Spam":
		return SpecialJunk
	case "Archive", "Archives":
		return SpecialArchive
	}
	return ""
}
