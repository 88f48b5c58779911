package queue

import (
	"container/heap"
	"sync"
	"time"
)

// dueIndex is the worker's in-memory index of when each item is next
// due: a min-heap of due times with a map by id, so waking up for one
// message costs O(log n), not a listing of the queue directory. It is
// rebuilt from disk when the worker starts and at each rescan (which
// also picks up items that `letterbox serve queue` changed from another
// process).
type dueIndex struct {
	mu   sync.Mutex
	h    dueHeap
	byID map[string]*dueEntry
	seq  uint64 // stamps of set calls
}

type dueEntry struct {
	id    string
	at    time.Time
	i     int    // position in the heap
	stamp uint64 // when set, in dueIndex.seq; 0 if from a rescan
}

type dueHeap []*dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].i = i; h[j].i = j }
func (h *dueHeap) Push(x any)        { e := x.(*dueEntry); e.i = len(*h); *h = append(*h, e) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func newDueIndex() *dueIndex { return &dueIndex{byID: map[string]*dueEntry{}} }

// set records that id is due at at.
func (x *dueIndex) set(id string, at time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.seq++
	if e, ok := x.byID[id]; ok {
		e.at, e.stamp = at, x.seq
		heap.Fix(&x.h, e.i)
		return
	}
	e := &dueEntry{id: id, at: at, stamp: x.seq}
	x.byID[id] = e
	heap.Push(&x.h, e)
}

// stamp returns the stamp of the latest set; a listing of the directory
// started after it is passed to reset.
func (x *dueIndex) stamp() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.seq
}

// reset replaces the index with items (a listing that started at stamp
// since), leaving out those skip names. Entries set after since are
// newer than the listing and are kept as they are.
func (x *dueIndex) reset(items []*Item, since uint64, skip func(id string) bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.byID
	x.byID = make(map[string]*dueEntry, len(items))
	x.h = x.h[:0]
	add := func(e *dueEntry) {
		e.i = len(x.h)
		x.byID[e.id] = e
		x.h = append(x.h, e)
	}
	for _, e := range old {
		if e.stamp > since {
			add(e)
		}
	}
	for _, it := range items {
		if _, newer := x.byID[it.ID]; newer || skip(it.ID) {
			continue
		}
		add(&dueEntry{id: it.ID, at: it.NextAttempt})
	}
	heap.Init(&x.h)
}

// popDue removes and returns an item due at now or before.
func (x *dueIndex) popDue(now time.Time) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.h) == 0 || x.h[0].at.After(now) {
		return "", false
	}
	e := heap.Pop(&x.h).(*dueEntry)
	delete(x.byID, e.id)
	return e.id, true
}

// next returns the earliest due time.
func (x *dueIndex) next() (time.Time, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.h) == 0 {
		return time.Time{}, false
	}
	return x.h[0].at, true
}

// len is the number of indexed items.
func (x *dueIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.h)
}
