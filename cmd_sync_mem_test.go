package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestBoundSyncMemory: the sync command's soft memory limit is set
// unless GOMEMLIMIT is, and only by the process itself (main), never by
// a test running commands in-process.
func TestBoundSyncMemory(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	oldGC := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(old); debug.SetGCPercent(oldGC) })
	tests := []struct {
		name      string
		env, gogc string
		start     int64
		want      int64
		wantGC    int
	}{
		{"unset", "", "", math.MaxInt64, syncMemoryLimit, -1},
		{"GOGC kept", "", "50", math.MaxInt64, syncMemoryLimit, 100},
		{"GOMEMLIMIT wins", "1GiB", "", 1 << 30, 1 << 30, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(tc.start)
			debug.SetGCPercent(100)
			boundSyncMemory(func(k string) string {
				switch k {
				case "GOMEMLIMIT":
					return tc.env
				case "GOGC":
					return tc.gogc
				}
				return ""
			})
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Fatalf("limit %d, want %d", got, tc.want)
			}
			if got := debug.SetGCPercent(100); got != tc.wantGC {
				t.Fatalf("GC percent %d, want %d", got, tc.wantGC)
			}
		})
	}
}

// TestSyncInProcessKeepsMemoryLimit: a sync run by a test in its own
// process (env.process unset) leaves the process's memory limit alone.
func TestSyncInProcessKeepsMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	dir := t.TempDir()
	offlineConfig(t, dir)
	cli(t, dir, "", "sync", "alice")
	if got := debug.SetMemoryLimit(-1); got != old {
		debug.SetMemoryLimit(old)
		t.Fatalf("an in-process sync changed the memory limit from %d to %d", old, got)
	}
}
