package testpeer

import "runtime"

// AllocDuring returns the bytes allocated while fn ran (TotalAlloc after
// a collection): a wide-margin bound on what a hostile peer made the
// code under test hold.
func AllocDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
