package imapclient

// Letterbox patch: the NOTIFY command (RFC 5465), which upstream's client
// does not have.

// NotifyGroup is one event group of NOTIFY SET (RFC 5465 section 3.1):
// which mailboxes, and which of their events are wanted.
type NotifyGroup struct {
	// Filter is "selected", "selected-delayed", "inboxes", "personal" or
	// "subscribed" (RFC 5465 section 6).
	Filter string
	// Events are event names: "MessageNew", "MessageExpunge",
	// "FlagChange", "MailboxName", "SubscriptionChange" (RFC 5465
	// section 5). Empty means NONE: no events for these mailboxes.
	Events []string
}

// Notify sends NOTIFY SET with groups, or NOTIFY NONE when there are
// none. The server then sends events as unilateral data: EXISTS, EXPUNGE
// and FETCH for the selected mailbox, STATUS for the others
// (UnilateralDataHandler.Status).
//
// This command requires support for the NOTIFY extension.
func (c *Client) Notify(groups ...NotifyGroup) *Command {
	cmd := &Command{}
	enc := c.beginCommand("NOTIFY", cmd)
	if len(groups) == 0 {
		enc.SP().Atom("NONE")
		enc.end()
		return cmd
	}
	enc.SP().Atom("SET")
	for _, g := range groups {
		enc.SP().Special('(').Atom(g.Filter).SP()
		if len(g.Events) == 0 {
			enc.Atom("NONE")
		} else {
			enc.List(len(g.Events), func(i int) { enc.Atom(g.Events[i]) })
		}
		enc.Special(')')
	}
	enc.end()
	return cmd
}
