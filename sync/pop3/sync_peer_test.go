package pop3

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

func syncPeer(t testing.TB, st *store.Store, cfg Config, opts Options) Result {
	t.Helper()
	opts.Client = cfg
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Sync(ctx, st, opts)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res
}

// A download stores exactly what the server has, over implicit TLS and
// over STLS; a second one finds nothing new; the mail is ordinary store
// mail: searchable, flaggable, movable.
func TestSyncPeers(t *testing.T) {
	forPeers(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		msgs := testCorpus(1, 30, "a")
		want := fill(t, p, msgs)
		st := openStore(t, t.TempDir(), true)
		res := syncPeer(t, st, p.cfg, Options{})
		if res.Downloaded != len(msgs) || res.OnServer != len(msgs) || res.Deleted != 0 {
			t.Fatalf("first sync: %+v", res)
		}
		if got := localDigests(t, st); !slices.Equal(got, want) {
			t.Fatalf("store %v\nserver %v", got, want)
		}
		stls := p.cfg
		stls.Addr, stls.Security = p.plain, SecurityStartTLS
		if res := syncPeer(t, st, stls, Options{}); res.Downloaded != 0 {
			t.Fatalf("second sync downloaded %d", res.Downloaded)
		}
		more := testCorpus(2, 3, "b")
		want = append(want, fill(t, p, more)...)
		slices.Sort(want)
		if res := syncPeer(t, st, stls, Options{}); res.Downloaded != len(more) {
			t.Fatalf("third sync: %+v", res)
		}
		if got := localDigests(t, st); !slices.Equal(got, want) || !slices.Equal(p.digests(t), want) {
			t.Fatalf("after the third sync: store %d, server %d, want %d", len(got), len(p.digests(t)), len(want))
		}
		// Local folders, flags and search work as for any mail.
		g := mailgen.New(mailgen.Options{Seed: 1, Count: 30})
		m, _ := g.Next()
		found, err := st.Search(ctx, m.Words[0], store.SearchOptions{})
		if err != nil || len(found) != 1 || found[0].MessageID != m.MessageID {
			t.Fatalf("search %q: %v %v", m.Words[0], found, err)
		}
		if _, err := st.SetFlags(ctx, store.Inbox, []uint32{found[0].UID}, store.FlagsAdd, []string{store.FlagSeen}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateMailbox(ctx, "Projects", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Move(ctx, store.Inbox, []uint32{found[0].UID}, "Projects"); err != nil {
			t.Fatal(err)
		}
		if res := syncPeer(t, st, p.cfg, Options{}); res.Downloaded != 0 {
			t.Fatalf("a moved message came back: %+v", res)
		}
	})
}

func TestPolicies(t *testing.T) {
	const days = 3
	tests := []struct {
		name string
		run  func(t *testing.T, p *peer, st *store.Store, msgs [][]byte) (server, local []string)
	}{
		{"keep", func(t *testing.T, p *peer, st *store.Store, msgs [][]byte) ([]string, []string) {
			syncPeer(t, st, p.cfg, Options{Policy: Policy{Kind: Keep}})
			syncPeer(t, st, p.cfg, Options{Policy: Policy{Kind: Keep}})
			return digestsOf(msgs), digestsOf(msgs)
		}},
		{"delete", func(t *testing.T, p *peer, st *store.Store, msgs [][]byte) ([]string, []string) {
			res := syncPeer(t, st, p.cfg, Options{Policy: Policy{Kind: Delete}})
			if res.Deleted != len(msgs) {
				t.Errorf("deleted %d", res.Deleted)
			}
			return nil, digestsOf(msgs)
		}},
		{"keep-days", func(t *testing.T, p *peer, st *store.Store, msgs [][]byte) ([]string, []string) {
			old, young := msgs[:4], msgs[4:]
			fill(t, p, old)
			policy := Policy{Kind: KeepDays, Days: days}
			syncPeer(t, st, p.cfg, Options{Policy: policy})
			time.Sleep(1100 * time.Millisecond) // remote ids are dated to the second
			fill(t, p, young)
			if res := syncPeer(t, st, p.cfg, Options{Policy: policy}); res.Deleted != 0 || res.Downloaded != len(young) {
				t.Fatalf("nothing is %d days old yet: %+v", days, res)
			}
			ids, err := st.RemoteIDs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// The newest of the old ones: their first sync may straddle a
			// second boundary.
			now := ids[len(old)-1].Created.Add(days * 24 * time.Hour)
			res := syncPeer(t, st, p.cfg, Options{Policy: policy, Now: func() time.Time { return now }})
			if res.Deleted != len(old) {
				t.Errorf("deleted %d, want the %d old ones", res.Deleted, len(old))
			}
			return digestsOf(young), digestsOf(msgs)
		}},
		{"delete-local", func(t *testing.T, p *peer, st *store.Store, msgs [][]byte) ([]string, []string) {
			ctx := context.Background()
			syncPeer(t, st, p.cfg, Options{})
			uids, err := st.UIDs(ctx, store.Inbox)
			if err != nil {
				t.Fatal(err)
			}
			// One deleted locally, one moved to another folder: only the
			// deleted one goes on the server.
			if _, err := st.Remove(ctx, store.Inbox, uids[:1]); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.Move(ctx, store.Inbox, uids[1:2], "Archive"); err != nil {
				t.Fatal(err)
			}
			local := localDigests(t, st)
			res := syncPeer(t, st, p.cfg, Options{DeleteLocal: true})
			if res.Deleted != 1 {
				t.Errorf("deleted %d", res.Deleted)
			}
			server := append(local, digestOfUID(t, st, "Archive"))
			slices.Sort(server)
			return server, local
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forPeers(t, func(t *testing.T, p *peer) {
				msgs := testCorpus(3, 8, "p")
				if tc.name != "keep-days" {
					fill(t, p, msgs)
				}
				st := openStore(t, t.TempDir(), false)
				if _, err := st.CreateMailbox(context.Background(), "Archive", store.SpecialArchive); err != nil && !errors.Is(err, store.ErrExists) {
					t.Fatal(err)
				}
				wantServer, wantLocal := tc.run(t, p, st, msgs)
				if got := p.digests(t); !slices.Equal(got, wantServer) {
					t.Errorf("server has %d: %v\nwant %d: %v", len(got), got, len(wantServer), wantServer)
				}
				if got := localDigests(t, st); !slices.Equal(got, wantLocal) {
					t.Errorf("INBOX has %d: %v\nwant %d: %v", len(got), got, len(wantLocal), wantLocal)
				}
			})
		})
	}
}

// digestOfUID returns the digest of the only message in mailbox.
func digestOfUID(t *testing.T, st *store.Store, mailbox string) string {
	t.Helper()
	ctx := context.Background()
	msgs, err := st.Fetch(ctx, mailbox, nil)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%s: %d messages, %v", mailbox, len(msgs), err)
	}
	f, err := st.OpenRaw(ctx, msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return digest([]byte(b.String()))
}

// A message another client deleted on the server is marked gone; the
// local copy stays.
func TestVanished(t *testing.T) {
	forPeers(t, func(t *testing.T, p *peer) {
		msgs := testCorpus(4, 5, "v")
		want := fill(t, p, msgs)
		st := openStore(t, t.TempDir(), false)
		syncPeer(t, st, p.cfg, Options{})
		p.remove(t, 0)
		if res := syncPeer(t, st, p.cfg, Options{}); res.Vanished != 1 || res.OnServer != len(msgs)-1 {
			t.Fatalf("after a deletion elsewhere: %+v", res)
		}
		ids, err := st.RemoteIDs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		gone := 0
		for _, id := range ids {
			if id.ServerGone {
				gone++
			}
		}
		if gone != 1 {
			t.Errorf("%d marked gone", gone)
		}
		if got := localDigests(t, st); !slices.Equal(got, want) {
			t.Errorf("local copy lost")
		}
		if res := syncPeer(t, st, p.cfg, Options{}); res.Vanished != 0 {
			t.Errorf("marked gone twice: %+v", res)
		}
	})
}
