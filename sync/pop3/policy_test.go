package pop3

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

func TestPlan(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ids := []store.RemoteIDInfo{
		{Key: "pop3:old", MessageID: 1, Created: now.Add(-10 * day), Present: true},
		{Key: "pop3:edge", MessageID: 2, Created: now.Add(-3 * day), Present: true},
		{Key: "pop3:young", MessageID: 3, Created: now.Add(-time.Hour), Present: true},
		{Key: "pop3:deleted-here", MessageID: 4, Created: now.Add(-time.Hour), Present: false},
		// Remembered without a local copy: never deleted on the server.
		{Key: "pop3:remembered", MessageID: 0, Created: now.Add(-30 * day), Present: false},
		// Not on the server any more.
		{Key: "pop3:gone", MessageID: 5, Created: now.Add(-30 * day), Present: true, ServerGone: true},
		// Another kind of remote id in the same store.
		{Key: "imap:x", MessageID: 6, Created: now.Add(-30 * day), Present: false},
	}
	onServer := map[string]int{"pop3:old": 1, "pop3:edge": 2, "pop3:young": 3, "pop3:deleted-here": 4, "pop3:remembered": 5, "imap:x": 6}
	tests := []struct {
		name        string
		policy      Policy
		deleteLocal bool
		want        []string
	}{
		{"keep", Policy{Kind: Keep}, false, nil},
		{"keep, delete local", Policy{Kind: Keep}, true, []string{"pop3:deleted-here"}},
		{"delete", Policy{Kind: Delete}, false, []string{"pop3:old", "pop3:edge", "pop3:young", "pop3:deleted-here"}},
		{"keep 3 days", Policy{Kind: KeepDays, Days: 3}, false, []string{"pop3:old", "pop3:edge"}},
		{"keep 11 days", Policy{Kind: KeepDays, Days: 11}, false, nil},
		{"keep 3 days, delete local", Policy{Kind: KeepDays, Days: 3}, true, []string{"pop3:old", "pop3:edge", "pop3:deleted-here"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, d := range plan(ids, onServer, tc.policy, tc.deleteLocal, now) {
				if d.num != onServer[d.key] {
					t.Errorf("%s: message %d, want %d", d.key, d.num, onServer[d.key])
				}
				got = append(got, d.key)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("plan %v, want %v", got, tc.want)
			}
		})
	}
	if got := vanished(ids, map[string]int{"pop3:old": 1}); !slices.Equal(got, []string{"pop3:edge", "pop3:young", "pop3:deleted-here", "pop3:remembered"}) {
		t.Errorf("vanished %v", got)
	}
}

func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		policy Policy
		ok     bool
		str    string
	}{
		{Policy{}, true, "keep"},
		{Policy{Kind: Delete}, true, "delete"},
		{Policy{Kind: KeepDays, Days: 7}, true, "keep-days:7"},
		{Policy{Kind: KeepDays}, false, "keep-days:0"},
		{Policy{Kind: 9}, false, "keep"},
	}
	for _, tc := range tests {
		err := tc.policy.check()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, lbsync.ErrPermanent)) {
			t.Errorf("%+v: %v", tc.policy, err)
		}
		if s := tc.policy.String(); s != tc.str {
			t.Errorf("%+v: String %q, want %q", tc.policy, s, tc.str)
		}
	}
}
