package capture

import "unsafe"

// liveTable holds the live sessions by the 64-bit hash of their raw key: an
// open-addressing table with linear probing whose slot is one liveSession
// (64 bytes, one cache line), so that a lookup among tens of thousands of
// interleaved clients costs one cache miss. Go's map took several (its
// directory, its table, a group's control word, then the slot) and was the
// sessionizer's largest cost on a 1M-line import.
type liveTable struct {
	slots []liveSession // len a power of two; a slot with used false is empty
	n     int           // used slots
}

// minLiveSlots is the smallest table (it grows by doubling past three quarters full).
const minLiveSlots = 1024

// find returns the slot of key k: the used slot holding k, or the empty
// slot where k would go.
func (t *liveTable) find(k uint64) *liveSession {
	if t.slots == nil {
		t.slots = make([]liveSession, minLiveSlots)
	}
	mask := uint64(len(t.slots) - 1)
	// The key is already a good hash: fold its high bits in so that a
	// key set differing only above the mask still spreads.
	for i := (k ^ k>>32) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used || s.key == k {
			return s
		}
	}
}

// put stores ls (whose key is set) in the slot find returned for it,
// growing the table past three quarters full (linear probing stays short there,
// and a smaller table stays in cache); the slot pointer is invalid
// afterwards.
func (t *liveTable) put(slot *liveSession, ls liveSession) {
	ls.used = true
	if !slot.used {
		t.n++
	}
	*slot = ls
	if 4*t.n > 3*len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
}

// rehash moves the used slots that keep(slot) accepts into a table of size
// slots (a power of two).
func (t *liveTable) rehash(size int) {
	t.rehashKeep(size, nil)
}

func (t *liveTable) rehashKeep(size int, keep func(*liveSession) bool) {
	old := t.slots
	t.slots, t.n = make([]liveSession, size), 0
	mask := uint64(size - 1)
	for i := range old {
		s := &old[i]
		if !s.used || keep != nil && !keep(s) {
			continue
		}
		j := (s.key ^ s.key>>32) & mask
		for t.slots[j].used {
			j = (j + 1) & mask
		}
		t.slots[j] = *s
		t.n++
	}
}

// retain keeps only the sessions keep accepts, shrinking the table when
// few are left.
func (t *liveTable) retain(keep func(*liveSession) bool) {
	if t.n == 0 {
		return
	}
	kept := 0
	for i := range t.slots {
		if s := &t.slots[i]; s.used && keep(s) {
			kept++
		}
	}
	if kept == t.n {
		return
	}
	size := minLiveSlots
	for 2*kept > size/2 {
		size *= 2
	}
	t.rehashKeep(size, keep)
}

// len returns the number of live sessions.
func (t *liveTable) len() int { return t.n }

// prefetch starts loading the slot of key k into the CPU's cache, so that
// find for it, a few records later, does not wait for memory.
func (t *liveTable) prefetch(k uint64) {
	if t.slots != nil {
		prefetch(unsafe.Pointer(&t.slots[(k^k>>32)&uint64(len(t.slots)-1)]))
	}
}
