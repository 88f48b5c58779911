package store

import (
	"context"
	"testing"
)

// TestWriteCacheKiB: the writer connection's page cache follows
// Options.WriteCacheKiB (8000 KiB when zero); readers keep 8000.
func TestWriteCacheKiB(t *testing.T) {
	tests := []struct {
		opt, want int
	}{
		{0, 8000},
		{2000, 2000},
	}
	for _, tc := range tests {
		ctx := context.Background()
		s, err := Open(ctx, t.TempDir(), &Options{WriteCacheKiB: tc.opt, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		var w, r int
		if err := s.wdb.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&w); err != nil {
			t.Fatal(err)
		}
		if err := s.rdb.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&r); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if w != -tc.want || r != -8000 {
			t.Errorf("WriteCacheKiB %d: writer cache_size %d, reader %d; want %d and -8000", tc.opt, w, r, -tc.want)
		}
	}
}
