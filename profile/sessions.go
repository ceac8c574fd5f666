package profile

// sessionTable holds the live sessions: an open-addressing hash table
// (linear probing, backward-shift deletion) keyed by a session id's strKey,
// with each session's state in its slot, so a request costs one probe into
// one array and no pointer chase. It grows to twice the live sessions at
// most and never shrinks: its memory is the peak of live sessions.
type sessionTable struct {
	slots []sessionSlot
	n     int
}

// sessionSlot is one slot: empty when key is zero (keys have bit 0 of
// their first word set).
type sessionSlot struct {
	key strKey
	session
}

func (t *sessionTable) mask() uint64 { return uint64(len(t.slots) - 1) }

// find returns the slot of key, or of where key would go and false.
func (t *sessionTable) find(key strKey) (int, bool) {
	if len(t.slots) == 0 {
		t.slots = make([]sessionSlot, 1024)
	}
	m := t.mask()
	for i := key[0] & m; ; i = (i + 1) & m {
		s := &t.slots[i]
		if s.key == key {
			return int(i), true
		}
		if s.key[0] == 0 {
			return int(i), false
		}
	}
}

// insert puts a new session at slot i (from find) and returns its slot,
// which may move when the table grows.
func (t *sessionTable) insert(i int, key strKey, s session) int {
	t.slots[i] = sessionSlot{key, s}
	t.n++
	if 2*t.n <= len(t.slots) {
		return i
	}
	old := t.slots
	t.slots = make([]sessionSlot, 2*len(old))
	for _, o := range old {
		if o.key[0] != 0 {
			j, _ := t.find(o.key)
			t.slots[j] = o
		}
	}
	j, _ := t.find(key)
	return j
}

// remove empties slot i, shifting back the entries of its probe run that
// belong before it, so no lookup stops early at a hole.
func (t *sessionTable) remove(i int) {
	m := t.mask()
	hole := uint64(i)
	for j := (hole + 1) & m; t.slots[j].key[0] != 0; j = (j + 1) & m {
		home := t.slots[j].key[0] & m
		// The entry at j may fill the hole unless its home lies
		// cyclically in (hole, j].
		if (j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j) {
			t.slots[hole] = t.slots[j]
			hole = j
		}
	}
	t.slots[hole] = sessionSlot{}
	t.n--
}
